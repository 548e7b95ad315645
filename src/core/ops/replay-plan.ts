/**
 * What a replay of the failed-ingestion file decides for each entry: replay it, or skip it as already in the
 * graph (same content hash), superseded by a newer write of its path (a later op in the file, a SqlFile
 * ingested after it, or a superseded marker), or a retraction of a file already gone. Pure besides one read
 * of the graph's file states per call; throws what that read throws.
 */
import type {DeadLetterEntry, ParsedLines} from '../ingest/dead-letter.js'
import type {FileState} from '../graph/writer.js'

export type SkipReason = 'sameContent' | 'superseded' | 'gone'

export type Decision = 'replay' | SkipReason

export type Newest = Map<string, DeadLetterEntry>
/** What decides an entry besides the graph: the newest entry of each path, the newest marker of each path (ms). */
export interface Known {
  newest: Newest
  marked: Map<string, number>
}

export function markedByPath(markers: ParsedLines['markers']): Map<string, number> {
  const marked = new Map<string, number>()
  for (const {marker} of markers) marked.set(marker.path, Math.max(marked.get(marker.path) ?? 0, ms(marker.opTime)))
  return marked
}

/** Within the file, the newest op of a path wins (ties: the later line); the others are superseded. */
export function newestByPath(entries: DeadLetterEntry[]): Newest {
  const newest: Newest = new Map()
  for (const e of entries) {
    const seen = newest.get(e.path)
    if (!seen || ms(e.opTime) >= ms(seen.opTime)) newest.set(e.path, e)
  }
  return newest
}

/** Decide each entry: replay, or skip and why. */
export async function classify(
  writer: {fileStates(paths: string[]): Promise<Map<string, FileState>>},
  entries: DeadLetterEntry[],
  {newest, marked}: Known,
): Promise<Map<DeadLetterEntry, Decision>> {
  const plan = new Map<DeadLetterEntry, Decision>()
  const states = await writer.fileStates([...new Set(entries.map((e) => e.path))])
  for (const e of entries) {
    const state = states.get(e.path)
    const newerInGraph = state?.ingestedAt != null && ms(state.ingestedAt) > ms(e.opTime)
    const newerMarked = ms(e.opTime) < (marked.get(e.path) ?? 0)
    let decision: Decision = 'replay'
    if (newest.get(e.path) !== e || newerInGraph || newerMarked) decision = 'superseded'
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
