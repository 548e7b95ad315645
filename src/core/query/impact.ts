/**
 * `impact`: what a change to SQL files does to the lineage graph, before it is ingested. The changed files
 * are given as paths or taken from `git diff --name-only RANGE` in the watched folder; each is parsed as the
 * service would parse it (one file at a time, the configured dialect and session defaults), and its edges
 * are compared with those the graph holds for that file (Neo4j or the output folder, through LineageGraph).
 * A file that no longer exists loses all its edges; a file the graph does not know adds all of its own.
 * Edges are compared by level, source, target and file, not by line, so an edit that only moves a statement
 * (a comment, blank lines) is no lineage change. Everything downstream of a changed edge is listed, to any
 * depth, over the graph with the new edges laid on top of the old ones (trace's walk). Finding the changed
 * files and parsing them is changed-files.ts's; this module diffs and walks.
 */
import type {FileLineage, FileStatus} from '../types.js'
import {changedPaths, type ChangeSource, newLineage} from './changed-files.js'
import {compareEdges, type Direction, type LineageEdge, type LineageGraph, type Level} from './graph.js'
import {graphOfLineage} from './out-record.js'
import {walk} from './trace.js'

export type FailOn = 'removed' | 'changed'

export interface ImpactEdge extends LineageEdge {
  level: Level
}

export interface ImpactFile {
  /** Relative to the watched folder, as the graph names the file. */
  path: string
  /** `missing`: deleted (or given but absent), so every edge it had is removed. */
  state: 'present' | 'missing'
  /** How the new content parsed (`missing` for a missing file); anything but ok is warned about. */
  status: FileStatus | 'missing'
  added: number
  removed: number
}

export interface DownstreamNode {
  level: Level
  name: string
  /** Hops from the changed edge: 1 is the table or column the changed edge writes. */
  depth: number
}

export interface ImpactResult {
  backend: LineageGraph['backend']
  /** The git range the files came from, or null when they were given as paths. */
  range: string | null
  files: ImpactFile[]
  changed: boolean
  added: ImpactEdge[]
  removed: ImpactEdge[]
  downstream: DownstreamNode[]
}

/** A changed file and its new lineage (undefined: the file is gone). */
export interface FileChange {
  path: string
  lineage: FileLineage | undefined
}

/** Where the changed files are and how the service parses them (changed-files.ts). */
export type ImpactOptions = ChangeSource

export async function impact(graph: LineageGraph, options: ImpactOptions): Promise<ImpactResult> {
  const paths = await changedPaths(options)
  const changes = paths.map((path) => ({path, lineage: newLineage(path, options)}))
  return {...(await computeImpact(graph, changes)), range: options.gitRange ?? null}
}

/** The diff and the downstream of a set of changed files against `graph`. */
export async function computeImpact(
  graph: LineageGraph,
  changes: readonly FileChange[],
): Promise<Omit<ImpactResult, 'range'>> {
  const files = changes.map((c) => c.path)
  const after = new Map(changes.map((c) => [c.path, c.lineage ? graphOfLineage(c.lineage) : undefined]))
  const added: ImpactEdge[] = []
  const removed: ImpactEdge[] = []
  const newEdges: Record<Level, LineageEdge[]> = {table: [], column: []}
  const counts = new Map(files.map((f) => [f, {added: 0, removed: 0}]))
  for (const level of ['table', 'column'] as const) {
    const before = await graph.fileEdges(level, files)
    for (const path of files) {
      const next = after.get(path)
      const nextEdges = (level === 'table' ? next?.tableEdges : next?.columnEdges) ?? []
      newEdges[level].push(...nextEdges)
      const diff = diffEdges(before.get(path) ?? [], nextEdges)
      added.push(...diff.added.map((e) => ({level, ...e})))
      removed.push(...diff.removed.map((e) => ({level, ...e})))
      const count = counts.get(path)
      if (count) {
        count.added += diff.added.length
        count.removed += diff.removed.length
      }
    }
  }
  const downstream: DownstreamNode[] = []
  const overlay = overlayGraph(graph, newEdges)
  for (const level of ['table', 'column'] as const) {
    const starts = [...added, ...removed].filter((e) => e.level === level).map((e) => e.target)
    if (starts.length === 0) continue
    const edges = await walk(overlay, level, starts, 'downstream', Number.POSITIVE_INFINITY)
    for (const [name, depth] of depths(starts, edges)) downstream.push({level, name, depth})
  }
  downstream.sort((a, b) => levelRank(a.level) - levelRank(b.level) || a.depth - b.depth || cmp(a.name, b.name))
  const byLevel = (a: ImpactEdge, b: ImpactEdge): number =>
    levelRank(a.level) - levelRank(b.level) || compareEdges(a, b)
  return {
    backend: graph.backend,
    files: changes
      .map((c) => ({
        path: c.path,
        state: c.lineage ? ('present' as const) : ('missing' as const),
        status: c.lineage?.status ?? ('missing' as const),
        ...(counts.get(c.path) ?? {added: 0, removed: 0}),
      }))
      .sort((a, b) => cmp(a.path, b.path)),
    changed: added.length + removed.length > 0,
    added: added.sort(byLevel),
    removed: removed.sort(byLevel),
    downstream,
  }
}

/**
 * The edges only in `after` (added, at their new line) and only in `before` (removed, at their old line),
 * compared by source, target and file: a statement that only moved is no change. A pair made by several
 * statements of the file is one edge, at its first line.
 */
export function diffEdges(
  before: readonly LineageEdge[],
  after: readonly LineageEdge[],
): {added: LineageEdge[]; removed: LineageEdge[]} {
  const old = firstByKey(before)
  const next = firstByKey(after)
  const only = (a: Map<string, LineageEdge>, b: Map<string, LineageEdge>): LineageEdge[] =>
    [...a].filter(([k]) => !b.has(k)).map(([, e]) => e)
  return {added: only(next, old).sort(compareEdges), removed: only(old, next).sort(compareEdges)}
}

/** Whether `--fail-on` turns this result into exit 1. */
export function failsOn(result: Pick<ImpactResult, 'added' | 'removed'>, failOn: FailOn | undefined): boolean {
  if (failOn === 'removed') return result.removed.length > 0
  if (failOn === 'changed') return result.added.length + result.removed.length > 0
  return false
}

function firstByKey(edges: readonly LineageEdge[]): Map<string, LineageEdge> {
  const out = new Map<string, LineageEdge>()
  for (const e of edges) {
    const key = JSON.stringify([e.source, e.target, e.file])
    const seen = out.get(key)
    if (!seen || e.line < seen.line) out.set(key, {source: e.source, target: e.target, file: e.file, line: e.line})
  }
  return out
}

/** The fewest hops from any of `starts` (each at depth 1) to every node the edges reach. */
function depths(starts: readonly string[], edges: readonly LineageEdge[]): Map<string, number> {
  const next = new Map<string, string[]>()
  for (const e of edges) {
    const targets = next.get(e.source)
    if (targets) targets.push(e.target)
    else next.set(e.source, [e.target])
  }
  const depth = new Map<string, number>()
  let frontier = [...new Set(starts)]
  for (const s of frontier) depth.set(s, 1)
  for (let d = 2; frontier.length > 0; d++) {
    const following: string[] = []
    for (const node of frontier) {
      for (const t of next.get(node) ?? []) {
        if (depth.has(t)) continue
        depth.set(t, d)
        following.push(t)
      }
    }
    frontier = following
  }
  return depth
}

/**
 * `graph` with the changed files' new edges added beside their old ones, for the downstream walk: what lies
 * downstream before the change or after it is affected either way.
 */
function overlayGraph(graph: LineageGraph, extra: Record<Level, LineageEdge[]>): LineageGraph {
  return {
    backend: graph.backend,
    kindOf: (name) => graph.kindOf(name),
    names: (level) => graph.names(level),
    fileEdges: (level, files) => graph.fileEdges(level, files),
    close: () => Promise.resolve(),
    async edges(level: Level, names: readonly string[], direction: Direction): Promise<LineageEdge[]> {
      const wanted = new Set(names)
      const own = extra[level].filter((e) => wanted.has(direction === 'downstream' ? e.source : e.target))
      return [...(await graph.edges(level, names, direction)), ...own]
    },
  }
}

function levelRank(level: Level): number {
  return level === 'table' ? 0 : 1
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
