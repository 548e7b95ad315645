/**
 * What a replay of the failed-ingestion file decides for each entry: replay it, or skip it as already in the
 * graph (same content hash), superseded by a newer write of its path (a later op in the file, a SqlFile
 * ingested after it, or a superseded marker), or a retraction of a file already gone. A path is a path of the
 * entry's namespace. Markers name a path only, so one supersedes the older entries of its path in every
 * namespace: at worst a skipped entry of another namespace, whose watcher's ledger still holds the file as
 * failed and ingests it again at its next reconcile (docs/failed-ingestion.md). Pure besides the reads of
 * the graph's file states (one per namespace per call); throws what those reads throw.
 */
import type {DeadLetterEntry, ParsedLines} from '../ingest/dead-letter.js'
import type {FileState} from '../graph/writer.js'

export type SkipReason = 'sameContent' | 'superseded' | 'gone'

export type Decision = 'replay' | SkipReason

/** Entries by `pathKey`. */
export type Newest = Map<string, DeadLetterEntry>
/**
 * What decides an entry besides the graph: the newest entry of each path (of each namespace), the newest marker
 * of each path (ms).
 */
export interface Known {
  newest: Newest
  marked: Map<string, number>
}

export function markedByPath(markers: ParsedLines['markers']): Map<string, number> {
  const marked = new Map<string, number>()
  for (const {marker} of markers) marked.set(marker.path, Math.max(marked.get(marker.path) ?? 0, ms(marker.opTime)))
  return marked
}

/** A path in its namespace, as a map key: the same path of two namespaces is two files. */
export const pathKey = (e: {namespace?: string | undefined; path: string}): string =>
  JSON.stringify([e.namespace ?? '', e.path])

/** Within the file, the newest op of a path (of a namespace) wins (ties: the later line); the rest are superseded. */
export function newestByPath(entries: DeadLetterEntry[]): Newest {
  const newest: Newest = new Map()
  for (const e of entries) {
    const seen = newest.get(pathKey(e))
    if (!seen || ms(e.opTime) >= ms(seen.opTime)) newest.set(pathKey(e), e)
  }
  return newest
}

/** The graph's state of each entry's path, read in the entry's namespace (entries have one by now: retry-failed). */
async function statesOf(writer: StatesReader, entries: DeadLetterEntry[]): Promise<Map<string, FileState>> {
  const byNamespace = new Map<string, Set<string>>()
  for (const e of entries) {
    const ns = e.namespace ?? ''
    byNamespace.set(ns, (byNamespace.get(ns) ?? new Set()).add(e.path))
  }
  const states = new Map<string, FileState>()
  for (const [namespace, paths] of byNamespace) {
    for (const [path, state] of await writer.fileStates([...paths], namespace)) {
      states.set(pathKey({namespace, path}), state)
    }
  }
  return states
}

export interface StatesReader {
  fileStates(paths: string[], namespace: string): Promise<Map<string, FileState>>
}

/** Decide each entry: replay, or skip and why. */
export async function classify(
  writer: StatesReader,
  entries: DeadLetterEntry[],
  {newest, marked}: Known,
): Promise<Map<DeadLetterEntry, Decision>> {
  const plan = new Map<DeadLetterEntry, Decision>()
  const states = await statesOf(writer, entries)
  for (const e of entries) {
    const state = states.get(pathKey(e))
    const newerInGraph = state?.ingestedAt != null && ms(state.ingestedAt) > ms(e.opTime)
    const newerMarked = ms(e.opTime) < (marked.get(e.path) ?? 0)
    let decision: Decision = 'replay'
    if (newest.get(pathKey(e)) !== e || newerInGraph || newerMarked) decision = 'superseded'
    else if (e.op === 'upsert' && state?.exists === true && state.contentHash === e.contentHash)
      decision = 'sameContent'
    else if (e.op === 'retract' && state?.exists !== true && (state?.statements ?? 0) === 0) decision = 'gone'
    plan.set(e, decision)
  }
  return plan
}

/** An ISO time in ms; 0 for a time that does not parse (it orders first). */
export const ms = (iso: string): number => {
  const t = Date.parse(iso)
  return Number.isNaN(t) ? 0 : t
}
