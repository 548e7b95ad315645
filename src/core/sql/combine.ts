/**
 * File-level lineage from statement-level lineage, combined the way sqllineage combines statements:
 * each statement links every table it reads to every table it writes; a statement that only reads
 * tags its tables source-only, one that only writes tags them target-only. DROP removes a table nothing
 * links to; RENAME moves a table's links to its new name. The file's sources are the tables nothing in
 * it writes, plus tables a statement both reads and writes, plus source-only tables; targets the other
 * way round. So a temporary table written then read in the same file is in neither list.
 *
 * A DELETE that reads no other table moves no data into its table, so (as in sqllineage) it adds no
 * file-level lineage; its statement still names the table it writes. DELETE ... USING other does.
 */
import type {ColumnLineage, StatementLineage} from '../types.js'
import {columnEntry} from './result.js'

interface Graph {
  nodes: Map<string, {sourceOnly: boolean; targetOnly: boolean}>
  /** Adjacency both ways: out.get(a) has b for every edge a -> b; in the other way round. */
  out: Map<string, Set<string>>
  in: Map<string, Set<string>>
}

function node(g: Graph, name: string): {sourceOnly: boolean; targetOnly: boolean} {
  let n = g.nodes.get(name)
  if (!n) {
    n = {sourceOnly: false, targetOnly: false}
    g.nodes.set(name, n)
  }
  return n
}

function link(g: Graph, a: string, b: string): void {
  node(g, a)
  node(g, b)
  const out = g.out.get(a) ?? new Set<string>()
  out.add(b)
  g.out.set(a, out)
  const inn = g.in.get(b) ?? new Set<string>()
  inn.add(a)
  g.in.set(b, inn)
}

function degree(g: Graph, name: string): number {
  return (g.out.get(name)?.size ?? 0) + (g.in.get(name)?.size ?? 0)
}

function removeNode(g: Graph, name: string): void {
  for (const b of g.out.get(name) ?? []) g.in.get(b)?.delete(name)
  for (const a of g.in.get(name) ?? []) g.out.get(a)?.delete(name)
  g.out.delete(name)
  g.in.delete(name)
  g.nodes.delete(name)
}

function rename(g: Graph, from: string, to: string): void {
  const old = g.nodes.get(from)
  if (!old) return
  const outs = [...(g.out.get(from) ?? [])]
  const ins = [...(g.in.get(from) ?? [])]
  removeNode(g, from)
  const target = node(g, to)
  target.sourceOnly ||= old.sourceOnly
  target.targetOnly ||= old.targetOnly
  for (const b of outs) if (b !== from && b !== to) link(g, to, b)
  for (const a of ins) if (a !== from && a !== to) link(g, a, to)
  if (degree(g, to) === 0 && !target.sourceOnly && !target.targetOnly) g.nodes.delete(to)
}

/** Combine statements (in file order) into the file's source and target tables. */
export function combineStatements(statements: readonly StatementLineage[]): {sources: string[]; targets: string[]} {
  const g: Graph = {nodes: new Map(), out: new Map(), in: new Map()}
  for (const st of statements) {
    if (st.kind === 'DELETE' && st.sources.length === 0) continue
    for (const table of st.drops ?? []) {
      if (g.nodes.has(table) && degree(g, table) === 0) g.nodes.delete(table)
    }
    for (const r of st.renames ?? []) rename(g, r.from, r.to)
    if (st.sources.length > 0 && st.targets.length === 0) for (const t of st.sources) node(g, t).sourceOnly = true
    else if (st.sources.length === 0 && st.targets.length > 0) for (const t of st.targets) node(g, t).targetOnly = true
    for (const s of st.sources) for (const t of st.targets) link(g, s, t)
  }
  return project(g)
}

function project(g: Graph): {sources: string[]; targets: string[]} {
  const sources = new Set<string>()
  const targets = new Set<string>()
  for (const [name, tags] of g.nodes) {
    const self = g.out.get(name)?.has(name) ?? false
    const i = (g.in.get(name)?.size ?? 0) - (self ? 1 : 0)
    const o = (g.out.get(name)?.size ?? 0) - (self ? 1 : 0)
    if (self) {
      sources.add(name)
      targets.add(name)
    }
    if (i === 0 && (o > 0 || (!self && tags.sourceOnly))) sources.add(name)
    if (o === 0 && (i > 0 || (!self && tags.targetOnly))) targets.add(name)
  }
  return {sources: [...sources].sort(), targets: [...targets].sort()}
}

/**
 * File-level column lineage: each column a statement writes is followed through later statements to
 * the columns nothing in the file reads again, so `a -> tmp.a -> b` gives `a -> b`, as the table level
 * collapses temporary tables. A column written from itself (`SET x = x + 1`) keeps that edge.
 */
export function combineColumns(statements: readonly StatementLineage[]): ColumnLineage[] {
  const out = new Map<string, Set<string>>()
  const next = new Map<string, Set<string>>()
  const hasIn = new Set<string>()
  const add = (target: string, source: string): void => {
    const set = out.get(target) ?? new Set<string>()
    set.add(source)
    out.set(target, set)
  }
  for (const st of statements) {
    for (const col of st.columns) {
      for (const src of col.sources) {
        if (src === col.target) add(col.target, src)
        else {
          const set = next.get(src) ?? new Set<string>()
          set.add(col.target)
          next.set(src, set)
          hasIn.add(col.target)
        }
      }
    }
  }
  const leaves = leafSets(next)
  for (const root of next.keys()) {
    if (hasIn.has(root)) continue
    for (const leaf of leaves.get(root) ?? []) add(leaf, root)
  }
  return [...out]
    .map(([target, sources]) => columnEntry(target, sources))
    .sort((a, b) => a.target.localeCompare(b.target))
}

/**
 * For every node, the nodes without successors it reaches (itself when it has none). Iterative, since
 * a script can chain thousands of tables; a node met again on its own path (a cycle) adds nothing.
 */
function leafSets(next: ReadonlyMap<string, Set<string>>): Map<string, Set<string>> {
  const leaves = new Map<string, Set<string>>()
  const seen = new Set<string>()
  for (const root of next.keys()) {
    if (seen.has(root)) continue
    seen.add(root)
    const stack: {node: string; succ: string[]; i: number}[] = [{node: root, succ: [...(next.get(root) ?? [])], i: 0}]
    while (stack.length > 0) {
      const top = stack[stack.length - 1]
      if (!top) break
      const child = top.succ[top.i++]
      if (child !== undefined) {
        if (!seen.has(child)) {
          seen.add(child)
          stack.push({node: child, succ: [...(next.get(child) ?? [])], i: 0})
        }
        continue
      }
      const result = new Set<string>()
      if (top.succ.length === 0) result.add(top.node)
      for (const s of top.succ) for (const leaf of leaves.get(s) ?? []) result.add(leaf)
      leaves.set(top.node, result)
      stack.pop()
    }
  }
  return leaves
}
