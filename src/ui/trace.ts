/**
 * How `lineage trace` prints a TraceResult: a text tree with the file:line of the statement on each edge,
 * Graphviz DOT, or a Mermaid flowchart. Edges in the pictures point the way data flows (source -> target).
 */
import type {LineageEdge, TraceResult} from '../core/index.js'

export type TraceFormat = 'text' | 'json' | 'dot' | 'mermaid'

export function formatTrace(result: TraceResult, format: TraceFormat): string {
  if (format === 'json') return JSON.stringify(result, null, 2)
  if (format === 'dot') return toDot(result)
  if (format === 'mermaid') return toMermaid(result)
  return toText(result)
}

function allEdges(result: TraceResult): LineageEdge[] {
  return [...(result.upstream ?? []), ...(result.downstream ?? [])]
}

/** One drawn edge per source -> target pair, labelled with every file:line that makes it. */
function pairs(result: TraceResult): {source: string; target: string; where: string[]}[] {
  const byPair = new Map<string, {source: string; target: string; where: Set<string>}>()
  for (const e of allEdges(result)) {
    const key = JSON.stringify([e.source, e.target])
    const entry = byPair.get(key) ?? {source: e.source, target: e.target, where: new Set<string>()}
    entry.where.add(`${e.file}:${e.line}`)
    byPair.set(key, entry)
  }
  return [...byPair.values()].map((p) => ({...p, where: [...p.where]}))
}

function toText(result: TraceResult): string {
  const out: string[] = []
  const where = result.backend === 'neo4j' ? 'Neo4j' : 'the output folder'
  const depth = result.depth === null ? 'all levels' : `depth ${result.depth}`
  out.push(`${result.name} (${result.level}, ${depth}, from ${where})`)
  for (const direction of ['upstream', 'downstream'] as const) {
    const edges = result[direction]
    if (!edges) continue
    const heading = direction === 'upstream' ? 'upstream: derives from' : 'downstream: feeds'
    out.push('', `${heading}${edges.length === 0 ? ' nothing' : ''}`)
    if (edges.length === 0) continue
    out.push(result.name)
    const children = new Map<string, Map<string, Set<string>>>()
    for (const e of edges) {
      const [parent, child] = direction === 'upstream' ? [e.target, e.source] : [e.source, e.target]
      const byChild = children.get(parent) ?? new Map<string, Set<string>>()
      const set = byChild.get(child) ?? new Set<string>()
      set.add(`${e.file}:${e.line}`)
      byChild.set(child, set)
      children.set(parent, byChild)
    }
    drawTree(out, children, result.name, '', new Set([result.name]), new Set(), result.depth ?? Infinity, 0)
  }
  return out.join('\n')
}

/** At most three file:line places per edge in the tree; json, dot and mermaid keep them all. */
function places(set: Set<string>): string {
  const at = [...set]
  return at.length <= 3 ? at.join(', ') : `${at.slice(0, 3).join(', ')} (+${at.length - 3} more)`
}

/** A node already drawn with its subtree is drawn again as "(see above)", so shared sources do not multiply. */
function drawTree(
  out: string[],
  children: Map<string, Map<string, Set<string>>>,
  node: string,
  prefix: string,
  onPath: Set<string>,
  expanded: Set<string>,
  maxDepth: number,
  level: number,
): void {
  const kids = [...(children.get(node)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (level >= maxDepth) return
  expanded.add(node)
  kids.forEach(([child, at], i) => {
    const last = i === kids.length - 1
    const cycle = onPath.has(child)
    const repeat = !cycle && expanded.has(child) && (children.get(child)?.size ?? 0) > 0
    const note = cycle ? '  (cycle)' : repeat ? '  (see above)' : ''
    out.push(`${prefix}${last ? '└── ' : '├── '}${child}  ${places(at)}${note}`)
    if (cycle || repeat) return
    onPath.add(child)
    drawTree(out, children, child, prefix + (last ? '    ' : '│   '), onPath, expanded, maxDepth, level + 1)
    onPath.delete(child)
  })
}

/** A DOT label: backslashes and quotes escaped, so `\n`, `\N` and friends in a name stay literal. */
const dotLabel = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`

/** Nodes are n0, n1, ... labelled with their names: a DOT id would keep a name's backslashes half-escaped. */
function toDot(result: TraceResult): string {
  const ids = nodeIds(result)
  const lines = ['digraph lineage {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];']
  for (const [name, id] of ids) {
    lines.push(`  ${id} [label=${dotLabel(name)}${name === result.name ? ', style=bold' : ''}];`)
  }
  for (const p of pairs(result)) {
    lines.push(`  ${ids.get(p.source) ?? ''} -> ${ids.get(p.target) ?? ''} [label=${dotLabel(p.where.join('\n'))}];`)
  }
  lines.push('}')
  return lines.join('\n')
}

/** n0 for the traced name, then n1, n2, ... in the order the edges name them. */
function nodeIds(result: TraceResult): Map<string, string> {
  const ids = new Map<string, string>([[result.name, 'n0']])
  for (const p of pairs(result)) {
    for (const name of [p.source, p.target]) if (!ids.has(name)) ids.set(name, `n${ids.size}`)
  }
  return ids
}

/** Mermaid ids must be plain too: the same n0, n1, ... with the names as quoted labels. */
function toMermaid(result: TraceResult): string {
  const ids = nodeIds(result)
  const label = (s: string): string => `"${s.replace(/"/g, '#quot;').replace(/\n/g, ' ')}"`
  const id = (name: string): string => ids.get(name) ?? ''
  const nodes = [...ids.entries()].map(([name, n]) => `  ${n}[${label(name)}]`)
  const edges = pairs(result).map((p) => `  ${id(p.source)} -->|${label(p.where.join(', '))}| ${id(p.target)}`)
  return ['flowchart LR', ...nodes, ...edges, '  style n0 stroke-width:3px'].join('\n')
}
