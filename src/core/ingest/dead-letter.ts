/**
 * The failed-ingestion file (default data/failed_ingestion.jsonl): one JSON line per graph write that still
 * failed after retries, holding the exact rows that were to be written (or the retraction), so that
 * `retry-failed` can replay it without the parser or the SQL file.
 *
 * Appends and rewrites take the same lock (util/lock.ts: `<file>.lock`, naming its holder; the lock of a holder
 * that died is broken) and are fsync'd, so a rewrite by `retry-failed` can never lose a line a running service
 * appends. Waiting for the lock never blocks the event loop. Reading never drops a line: lines that are not
 * valid entries come back as `invalid`, raw (failed-entry.ts parses them). Throws LineageError E_LOCKED naming
 * the holder when the lock cannot be had within LOCK_WAIT_MS, and the file system's errors as they are.
 *
 * Besides entries the file holds "superseded" markers: a write of a path that landed in the graph after an
 * earlier write of it had failed. A retraction leaves nothing in the graph to compare a failed entry's time
 * with, so without the marker `retry-failed` would bring a deleted file's old lineage back. Markers are not
 * failures: the backlog does not count them, and `retry-failed` drops them once no older entry of their path
 * is left.
 */
import {randomUUID} from 'node:crypto'
import {closeSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {dirname} from 'node:path'

import {type GraphOp, type PreparedOp, prepareOp} from '../graph/model.js'
import type {GraphFailure} from '../graph/writer.js'
import {fsyncDir, writeFileAtomic} from '../util/fs.js'
import {DEFAULT_WAIT_MS, withLock} from '../util/lock.js'
import {type DeadLetterEntry, parseEntry, parseMarker, type SupersededMarker} from './failed-entry.js'
import {cutTornTail, fragmentOp, quarantineFileFor} from './failed-quarantine.js'
import type {Logger} from '../logger.js'

export {parseEntry, parseMarker, type DeadLetterEntry, type SupersededMarker} from './failed-entry.js'

export interface DeadLetterLine {
  /** 1-based line number in the file as read. */
  line: number
  /** The line's bytes, without its newline. */
  raw: Buffer
}
export interface InvalidLine {
  line: number
  raw: string
  reason: string
}
export interface ReadFailures {
  /** The entries, in file order. */
  entries: DeadLetterEntry[]
  /** Lines that are not valid entries, kept as they are. */
  invalid: InvalidLine[]
  /** The superseded markers, in file order. */
  markers: SupersededMarker[]
  /** The exact bytes read. */
  content: Buffer
}
export interface ParsedLines {
  entries: (DeadLetterLine & {entry: DeadLetterEntry})[]
  invalid: (DeadLetterLine & {reason: string})[]
  markers: (DeadLetterLine & {marker: SupersededMarker})[]
}

/** Longer than a lock may stay unrefreshed (util/lock.ts): an append outlasts a holder that died unnamed. */
export const LOCK_WAIT_MS = DEFAULT_WAIT_MS

/**
 * A failure to record: an op as the pipeline made it, in `namespace`, or one already prepared (a replay,
 * carrying its own). An entry without a namespace replays into the replay's.
 */
export interface FailureInput {
  op: GraphOp | PreparedOp
  namespace?: string | undefined
  code: string
  error: string
}

export function entryFor(failure: FailureInput, time: string, attempts = 1): DeadLetterEntry {
  const prepared: PreparedOp = 'time' in failure.op ? failure.op : prepareOp(failure.op, failure.namespace ?? '')
  const namespace = 'time' in failure.op ? failure.op.namespace : failure.namespace
  const base = {
    v: 1 as const,
    id: randomUUID(),
    path: prepared.path,
    opTime: prepared.time,
    ...(namespace === undefined ? {} : {namespace}),
  }
  const tail = {error: failure.error, code: failure.code, time, attempts}
  if (prepared.op === 'retract') {
    return {...base, op: 'retract', rows: {path: prepared.path, at: prepared.time}, ...tail}
  }
  const {contentHash, dialect} = prepared.rows.file
  return {...base, op: 'upsert', contentHash, dialect, rows: prepared.rows, ...tail}
}

/** The op an entry replays, in its namespace, else (an entry from before namespaces) in `current`. */
export function preparedFromEntry(entry: DeadLetterEntry, current: string): PreparedOp {
  const namespace = entry.namespace ?? current
  if (entry.op === 'retract') return {op: 'retract', namespace, path: entry.path, time: entry.opTime}
  return {op: 'upsert', namespace, path: entry.path, time: entry.opTime, rows: entry.rows}
}

/** Append one line per failure, under the lock, fsync'd. Returns the entries written. */
export async function appendFailures(
  file: string,
  failures: FailureInput[],
  clock: () => Date = () => new Date(),
  onTorn?: OnTorn,
): Promise<DeadLetterEntry[]> {
  if (failures.length === 0) return []
  const time = clock().toISOString()
  const entries = failures.map((f) => entryFor(f, time))
  await appendLines(file, entries, onTorn)
  return entries
}

/** The time that orders an op among the other ops of its path (DeadLetterEntry.opTime). */
export function opTimeOf(op: GraphOp): string {
  return op.op === 'retract' ? op.at : op.ingestedAt
}

/**
 * After a graph write, mark the paths whose older failed entries must not be replayed over it: those whose
 * previous write had failed (`hadFailed`, from the ledger), and every retraction while the file holds lines
 * (the ledger may not know of an older failure, after a crash). Returns the markers written.
 */
export async function markSuperseded(
  file: string,
  written: GraphOp[],
  hadFailed: (path: string) => boolean,
  clock: () => Date = () => new Date(),
  onTorn?: OnTorn,
): Promise<SupersededMarker[]> {
  const holdsLines = written.some((op) => op.op === 'retract') && fileSize(file) > 0
  const marked = written.filter((op) => hadFailed(op.path) || (op.op === 'retract' && holdsLines))
  if (marked.length === 0) return []
  const time = clock().toISOString()
  const markers = marked.map((op): SupersededMarker => ({
    v: 1,
    id: randomUUID(),
    op: 'superseded',
    path: op.path,
    opTime: opTimeOf(op),
    time,
  }))
  await appendLines(file, markers, onTorn)
  return markers
}

/** Where graph writes that failed after retries are kept for `lineage retry-failed`. */
export interface FailureSink {
  /** Named in log lines. */
  readonly location: string
  append(failures: GraphFailure[]): Promise<unknown>
  /** Older failed writes of these paths, written now, must never be replayed over them. */
  markSuperseded(written: GraphOp[], hadFailed: (path: string) => boolean): Promise<unknown>
}

/** `lineage verify` drops canary files named so at the top of the watched folder and removes them again. */
export const CANARY_PREFIX = 'lineage-verify-canary-'

export function isCanaryPath(path: string): boolean {
  return path.startsWith(CANARY_PREFIX) && !path.includes('/')
}

/**
 * The failed-ingestion file as the ingestor's FailureSink. A verify canary's failed writes are not kept: the
 * canary is gone when the check ends, so replaying it would only inflate the backlog verify itself reports.
 */
export function failedFileSink(file: string, logger?: Logger): FailureSink {
  const onTorn: OnTorn = (fragment) => {
    logger?.error(`${file} ended in a torn line (${fragment.length} bytes); moved to ${quarantineFileFor(file)}`)
  }
  return {
    location: file,
    append: async (failures) => {
      const kept = failures.filter((f) => !isCanaryPath(f.op.path))
      if (kept.length > 0) await appendFailures(file, kept, undefined, onTorn)
    },
    markSuperseded: (written, hadFailed) => markSuperseded(file, written, hadFailed, undefined, onTorn),
  }
}

/** Told of a torn last line cut off (and quarantined) before an append. */
export type OnTorn = (fragment: string) => void

/**
 * Append JSON lines under the lock, fsync'd. A torn last line (an earlier append cut short) is first cut off
 * and quarantined (failed-quarantine.ts), so an entry is never glued onto a fragment; when the fragment still
 * names its path and time, a superseded marker takes its place, so that no older entry of that path (the
 * upsert before a torn retraction) is replayed over it. The path's lineage is made right by its re-ingest:
 * the write whose record tore was never recorded, so its ledger row says it is not in the graph.
 */
async function appendLines(file: string, values: readonly object[], onTorn?: OnTorn): Promise<void> {
  await withFileLock(file, () => {
    const torn = cutTornTail(file)
    const lead: object[] = []
    if (torn !== undefined) {
      onTorn?.(torn)
      const named = fragmentOp(torn)
      if (named) lead.push({v: 1, id: randomUUID(), op: 'superseded', ...named, time: new Date().toISOString()})
    }
    const data = Buffer.from([...lead, ...values].map((v) => `${JSON.stringify(v)}\n`).join(''))
    const fresh = !exists(file)
    const fd = openSync(file, 'a')
    try {
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    if (fresh) fsyncDir(dirname(file))
  })
}

/** Parse the file; a missing file has no lines. */
export function readFailures(file: string): ReadFailures {
  let content: Buffer
  try {
    content = readFileSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return {entries: [], invalid: [], markers: [], content: Buffer.alloc(0)}
    }
    throw error
  }
  const {entries, invalid, markers} = parseLines(content)
  return {
    entries: entries.map((e) => e.entry),
    invalid: invalid.map(({line, raw, reason}) => ({line, raw: raw.toString('utf8'), reason})),
    markers: markers.map((m) => m.marker),
    content,
  }
}

/** Split the file's bytes into lines (blank ones skipped), each an entry or an invalid line, bytes kept. */
export function parseLines(content: Buffer): ParsedLines {
  const entries: ParsedLines['entries'] = []
  const invalid: ParsedLines['invalid'] = []
  const markers: ParsedLines['markers'] = []
  let start = 0
  for (let line = 1; start < content.length; line++) {
    const nl = content.indexOf(0x0a, start)
    const end = nl === -1 ? content.length : nl
    const raw = content.subarray(start, end)
    start = end + 1
    if (raw.toString('utf8').trim() === '') continue
    const text = raw.toString('utf8')
    const marker = nl === -1 ? undefined : parseMarker(text)
    if (marker) {
      markers.push({line, raw, marker})
      continue
    }
    const parsed = parseEntry(text)
    if (typeof parsed === 'string') invalid.push({line, raw, reason: nl === -1 ? `incomplete last line` : parsed})
    else entries.push({line, raw, entry: parsed})
  }
  return {entries, invalid, markers}
}

/** The backlog for `verify` and the metrics: lines that are not blank (entries and invalid lines alike). */
export function countFailures(file: string): number {
  let content: string
  try {
    content = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
  return content.split('\n').filter((l) => l.trim() !== '' && !parseMarker(l)).length
}

// ---- locking and atomic replacement -----------------------------------------------------------------------

/**
 * Run fn holding the file's lock (the one appends take). Waits up to waitMs for another holder without
 * blocking the event loop; a dead holder's lock is broken. Throws E_LOCKED naming the holder after waitMs.
 */
export async function withFileLock<T>(file: string, fn: () => T | Promise<T>, waitMs = LOCK_WAIT_MS): Promise<T> {
  return withLock(file, fn, {waitMs})
}

/** Replace the file's content atomically (temp file, fsync, rename, fsync of the folder); empty removes it. */
export function replaceFile(file: string, content: Buffer): void {
  if (content.length === 0) {
    try {
      unlinkSync(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  } else {
    writeFileAtomic(file, content)
  }
  fsyncDir(dirname(file))
}

function fileSize(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

function exists(file: string): boolean {
  try {
    statSync(file)
    return true
  } catch {
    return false
  }
}
