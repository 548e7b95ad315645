/**
 * `trace`: the lineage of one table or column, upstream (what it derives from), downstream (what derives from
 * it) or both, to a depth or to the end, breadth first, over any LineageGraph, so Neo4j and the output folder
 * give the same answer. A column trace follows column edges through intermediate tables. A name the graph
 * does not hold throws LineageError E_USAGE naming the closest names it does hold.
 */
import {distance} from 'fastest-levenshtein'

import {LineageError} from '../errors.js'
import type {Direction, LineageEdge, LineageGraph, Level} from './graph.js'
import {uniqueEdges} from './graph.js'

export type TraceDirection = Direction | 'both'

export interface TraceOptions {
  name: string
  direction: TraceDirection
  /** Levels of edges to follow; undefined: all of them. */
  depth?: number | undefined
}

export interface TraceResult {
  name: string
  level: Level
  backend: LineageGraph['backend']
  direction: TraceDirection
  depth: number | null
  /** Edges found going upstream (target derives from source), sorted; absent when not asked. */
  upstream?: LineageEdge[]
  downstream?: LineageEdge[]
}

export async function trace(graph: LineageGraph, options: TraceOptions): Promise<TraceResult> {
  const level = await graph.kindOf(options.name)
  if (!level) throw new LineageError('E_USAGE', await unknownMessage(graph, options.name), unknownHint(graph))
  const result: TraceResult = {
    name: options.name,
    level,
    backend: graph.backend,
    direction: options.direction,
    depth: options.depth ?? null,
  }
  const maxDepth = options.depth ?? Number.POSITIVE_INFINITY
  if (options.direction !== 'downstream') result.upstream = await walk(graph, level, options.name, 'upstream', maxDepth)
  if (options.direction !== 'upstream') {
    result.downstream = await walk(graph, level, options.name, 'downstream', maxDepth)
  }
  return result
}

/**
 * Every edge within `maxDepth` hops of `start` (one name, or several walked together), one query per hop;
 * cycles end where a node was seen.
 */
export async function walk(
  graph: LineageGraph,
  level: Level,
  start: string | readonly string[],
  direction: Direction,
  maxDepth: number,
): Promise<LineageEdge[]> {
  const starts = typeof start === 'string' ? [start] : [...new Set(start)]
  const seen = new Set(starts)
  let frontier = starts
  const found: LineageEdge[] = []
  for (let hop = 0; hop < maxDepth && frontier.length > 0; hop++) {
    const edges = await graph.edges(level, frontier, direction)
    found.push(...edges)
    frontier = []
    for (const e of edges) {
      const next = direction === 'upstream' ? e.source : e.target
      if (!seen.has(next)) {
        seen.add(next)
        frontier.push(next)
      }
    }
  }
  return uniqueEdges(found)
}

/**
 * Up to `limit` names closest to `name` by edit distance, case aside, tables and columns alike; a name that
 * contains what was typed ranks first, then the nearest by whole name or by last part (`dialy` finds `mart.daily`). Ties sort by name, so both backends agree.
 */
export async function closestNames(graph: LineageGraph, name: string, limit = 5): Promise<string[]> {
  const names = [...(await graph.names('table')), ...(await graph.names('column'))]
  if (names.length === 0) return []
  const lower = name.toLowerCase()
  const score = (candidate: string): number => {
    const c = candidate.toLowerCase()
    if (c.includes(lower)) return -1
    // Against the whole name and against its last part, so `dialy` finds `mart.daily` and `totl` `x.y.total`.
    const last = c.slice(c.lastIndexOf('.') + 1)
    return Math.min(distance(lower, c), distance(lower.slice(lower.lastIndexOf('.') + 1), last) + 1)
  }
  const scored = names.map((n) => ({n, d: score(n)}))
  scored.sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
  return scored.slice(0, limit).map((s) => s.n)
}

async function unknownMessage(graph: LineageGraph, name: string): Promise<string> {
  const near = await closestNames(graph, name)
  const where = graph.backend === 'neo4j' ? 'the graph' : 'the output folder'
  if (near.length === 0) return `no table or column named "${name}" in ${where}, which holds no lineage yet`
  return `no table or column named "${name}" in ${where}; closest: ${near.join(', ')}`
}

function unknownHint(graph: LineageGraph): string {
  return graph.backend === 'neo4j'
    ? 'Names are schema-qualified and cased as the warehouse resolves them (mart.daily, mart.daily.total; Snowflake: MART.DAILY).'
    : 'Names are schema-qualified and cased as the warehouse resolves them (mart.daily, mart.daily.total; Snowflake: MART.DAILY); set NEO4J_URI to read Neo4j.'
}
