/**
 * The failed-ingestion file as a replay rewrites it: the file as slots (one per line read, in file order, each
 * with what became of it), and its rewrites under the appenders' lock that keep the slots not yet done and
 * whatever a running service appended meanwhile. Throws LineageError E_INTERNAL when the file changed by
 * anything other than an append, E_LOCKED when it stays locked, and the file system's errors.
 */
import {
  type DeadLetterEntry,
  type ParsedLines,
  parseLines,
  readFailures,
  replaceFile,
  withFileLock,
} from '../ingest/dead-letter.js'
import {LineageError} from '../errors.js'
import {quarantine} from '../ingest/failed-quarantine.js'

export type SlotState = 'pending' | 'done' | 'failed' | 'invalid' | 'appended' | 'marker'
export interface Slot {
  /** The line without its newline; for 'appended', the bytes as they were appended. */
  raw: Buffer
  entry?: DeadLetterEntry
  /** For a marker: its path and time (ms). */
  marker?: {path: string; at: number}
  state: SlotState
}
export type EntrySlot = Slot & {entry: DeadLetterEntry}

/**
 * Empty a file that holds no entries: its markers dropped, its invalid lines moved to the quarantine (left as
 * it is when it changed meanwhile).
 */
export async function dropMarkers(file: string, read: ParsedLines): Promise<'removed' | 'rewritten' | 'unchanged'> {
  const drop = new Set(read.markers.map((m) => m.line))
  return withFileLock(file, () => {
    const current = parseLines(readFailures(file).content)
    const same =
      current.entries.length === 0 &&
      current.invalid.length === read.invalid.length &&
      current.markers.every((m) => drop.has(m.line))
    if (!same) return 'unchanged'
    quarantine(
      file,
      read.invalid.map((i) => ({raw: i.raw.toString('utf8'), reason: i.reason})),
    )
    replaceFile(file, Buffer.alloc(0))
    return 'removed'
  })
}

/**
 * Write the slots not yet done, then whatever was appended since `known` (kept as it is, and from now on
 * part of the slots); returns the new content and how many lines were appended.
 */
export async function rewriteFile(
  file: string,
  known: Buffer,
  slots: Slot[],
): Promise<{content: Buffer; appendedLines: number}> {
  return withFileLock(file, () => {
    const current = readFailures(file).content
    // An append cuts a torn last line off (failed-quarantine.ts) before it writes: what was read up to the
    // last newline must still be there.
    const kept = startsWith(current, known) ? known : known.subarray(0, known.lastIndexOf(0x0a) + 1)
    if (!startsWith(current, kept)) {
      throw new LineageError(
        'E_INTERNAL',
        `${file} was changed by something other than an append during the replay; left as it is`,
        'Run "lineage retry-failed" again: entries already in the graph are skipped.',
      )
    }
    const appended = current.subarray(kept.length)
    if (appended.length > 0) slots.push({raw: Buffer.from(appended), state: 'appended'})
    const parts = slots
      .filter((s) => s.state !== 'done')
      .map((s) => (s.state === 'appended' ? s.raw : Buffer.concat([s.raw, NEWLINE])))
    const next = Buffer.concat(parts)
    replaceFile(file, next)
    return {content: next, appendedLines: countLines(appended)}
  })
}

const NEWLINE = Buffer.from('\n')

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  return buf.length >= prefix.length && buf.subarray(0, prefix.length).equals(prefix)
}

function countLines(buf: Buffer): number {
  return buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length
}
