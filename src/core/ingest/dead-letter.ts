/**
 * The failed-ingestion file (default data/failed_ingestion.jsonl): one JSON line per graph write that still
 * failed after retries, holding the exact rows that were to be written (or the retraction), so that
 * `retry-failed` can replay it without the parser or the SQL file.
 *
 * Appends and rewrites take the same lock (a `<file>.lock` folder naming its owner; a lock whose owner died,
 * or that is older than STALE_LOCK_MS, is broken) and are fsync'd, so a rewrite by `retry-failed` can never
 * lose a line a running service appends. Reading never drops a line: lines that are not valid entries come
 * back as `invalid`, raw. Throws LineageError E_INTERNAL when the lock cannot be had within LOCK_WAIT_MS, and
 * the file system's errors as they are.
 *
 * Besides entries the file holds "superseded" markers: a write of a path that landed in the graph after an
 * earlier write of it had failed. A retraction leaves nothing in the graph to compare a failed entry's time
 * with, so without the marker `retry-failed` would bring a deleted file's old lineage back. Markers are not
 * failures: the backlog does not count them, and `retry-failed` drops them once no older entry of their path
 * is left.
 */
import {randomUUID} from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import {hostname} from 'node:os'
import {dirname} from 'node:path'

import {errorMessage, LineageError} from '../errors.js'
import {type FileRows, type GraphOp, parseFileRows, type PreparedOp, prepareOp} from '../graph/model.js'

export interface DeadLetterEntry {
  v: 1
  id: string
  op: 'upsert' | 'retract'
  path: string
  contentHash?: string
  dialect?: string
  /** When the op was made (the upsert's ingestedAt, the retraction's time): orders ops of one path. */
  opTime: string
  rows: FileRows | {path: string; at: string}
  error: string
  code: string
  /** When it last failed. */
  time: string
  attempts: number
}

/** A write of `path` made at `opTime` is in the graph: entries of the path older than that are superseded. */
export interface SupersededMarker {
  v: 1
  id: string
  op: 'superseded'
  path: string
  opTime: string
  /** When the marker was written. */
  time: string
}

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

export const STALE_LOCK_MS = 30_000
export const LOCK_WAIT_MS = 10_000

/** A failure to record: an op as the pipeline made it, or one already prepared (a replay). */
export interface FailureInput {
  op: GraphOp | PreparedOp
  code: string
  error: string
}

export function entryFor(failure: FailureInput, time: string, attempts = 1): DeadLetterEntry {
  const prepared: PreparedOp = 'time' in failure.op ? failure.op : prepareOp(failure.op)
  const base = {v: 1 as const, id: randomUUID(), path: prepared.path, opTime: prepared.time}
  const tail = {error: failure.error, code: failure.code, time, attempts}
  if (prepared.op === 'retract') {
    return {...base, op: 'retract', rows: {path: prepared.path, at: prepared.time}, ...tail}
  }
  const {contentHash, dialect} = prepared.rows.file
  return {...base, op: 'upsert', contentHash, dialect, rows: prepared.rows, ...tail}
}

/** The op an entry replays. */
export function preparedFromEntry(entry: DeadLetterEntry): PreparedOp {
  if (entry.op === 'retract') return {op: 'retract', path: entry.path, time: entry.opTime}
  return {op: 'upsert', path: entry.path, time: entry.opTime, rows: entry.rows as FileRows}
}

/** Append one line per failure, under the lock, fsync'd. Returns the entries written. */
export function appendFailures(
  file: string,
  failures: FailureInput[],
  clock: () => Date = () => new Date(),
): DeadLetterEntry[] {
  if (failures.length === 0) return []
  const time = clock().toISOString()
  const entries = failures.map((f) => entryFor(f, time))
  appendLines(file, entries)
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
export function markSuperseded(
  file: string,
  written: GraphOp[],
  hadFailed: (path: string) => boolean,
  clock: () => Date = () => new Date(),
): SupersededMarker[] {
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
  appendLines(file, markers)
  return markers
}

/** Append JSON lines under the lock, fsync'd. */
function appendLines(file: string, values: readonly object[]): void {
  const data = Buffer.from(values.map((v) => `${JSON.stringify(v)}\n`).join(''))
  mkdirSync(dirname(file), {recursive: true})
  withFileLock(file, () => {
    const fresh = !exists(file)
    const fd = openSync(file, 'a')
    try {
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    if (fresh) fsyncDir(file)
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

/** A superseded marker, or undefined for any other line. */
export function parseMarker(text: string): SupersededMarker | undefined {
  if (!text.includes('"superseded"')) return undefined
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  const o = (typeof v === 'object' ? v : null) as Partial<Record<keyof SupersededMarker, unknown>> | null
  if (o?.v !== 1 || o.op !== 'superseded') return undefined
  if (typeof o.id !== 'string' || typeof o.path !== 'string' || typeof o.opTime !== 'string') return undefined
  if (typeof o.time !== 'string') return undefined
  return o as SupersededMarker
}

/** Parse one line into an entry, or say why it is not one. */
export function parseEntry(text: string): DeadLetterEntry | string {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (error) {
    return `not JSON: ${errorMessage(error)}`
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object'
  const o = v as Record<string, unknown>
  if (o.v !== 1) return `unknown version ${JSON.stringify(o.v)}`
  for (const k of ['id', 'path', 'opTime', 'error', 'code', 'time'] as const) {
    if (typeof o[k] !== 'string') return `field ${k} missing or not a string`
  }
  if (!Number.isInteger(o.attempts)) return 'field attempts missing or not an integer'
  const path = o.path as string
  const r = o.rows as Record<string, unknown> | null | undefined
  if (o.op === 'retract') {
    if (typeof r?.path !== 'string' || typeof r.at !== 'string' || r.path !== path) return 'retraction rows invalid'
    return o as unknown as DeadLetterEntry
  }
  if (o.op !== 'upsert') return `unknown op ${JSON.stringify(o.op)}`
  const rows = parseFileRows(r)
  if (rows?.file.path !== path) return 'upsert rows invalid'
  return {...(o as unknown as DeadLetterEntry), rows}
}

// ---- locking and atomic replacement -----------------------------------------------------------------------

interface LockOwner {
  pid: number
  host: string
  token: string
}

/** Run fn holding `<name>.lock`. Waits up to waitMs for another holder, breaking a stale lock. */
export function withFileLock<T>(name: string, fn: () => T, waitMs = LOCK_WAIT_MS): T {
  const lock = acquireLock(name, waitMs)
  try {
    return fn()
  } finally {
    releaseLock(lock)
  }
}

export interface HeldLock {
  dir: string
  token: string
}

export function acquireLock(name: string, waitMs = LOCK_WAIT_MS): HeldLock {
  const dir = `${name}.lock`
  const owner: LockOwner = {pid: process.pid, host: hostname(), token: randomUUID()}
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      mkdirSync(dir)
      writeFileSync(`${dir}/owner.json`, JSON.stringify(owner))
      return {dir, token: owner.token}
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = lockHolder(dir)
    if (holder.stale) {
      rmSync(dir, {recursive: true, force: true})
      continue
    }
    if (Date.now() > deadline) {
      throw new LineageError(
        'E_LOCKED',
        `${name} is locked by ${holder.who}`,
        `If that process is gone, remove ${dir}.`,
      )
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  }
}

export function releaseLock(lock: HeldLock): void {
  try {
    const owner = JSON.parse(readFileSync(`${lock.dir}/owner.json`, 'utf8')) as Partial<LockOwner>
    // Only our own: a lock broken as stale and taken by another process is theirs now.
    if (owner.token === lock.token) rmSync(lock.dir, {recursive: true, force: true})
  } catch {
    // already gone
  }
}

function lockHolder(dir: string): {stale: boolean; who: string} {
  let age: number
  try {
    age = Date.now() - statSync(dir).mtimeMs
  } catch {
    return {stale: false, who: 'another process'} // just released: try again
  }
  let owner: Partial<LockOwner> | undefined
  try {
    owner = JSON.parse(readFileSync(`${dir}/owner.json`, 'utf8')) as Partial<LockOwner>
  } catch {
    // being written, or its writer died between mkdir and write
    return {stale: age > 2000, who: 'another process'}
  }
  const who = `pid ${owner.pid ?? '?'} on ${owner.host ?? '?'}`
  if (owner.host === hostname() && typeof owner.pid === 'number' && !alive(owner.pid)) return {stale: true, who}
  return {stale: age > STALE_LOCK_MS, who}
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
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
    const tmp = `${file}.${process.pid}.tmp`
    const fd = openSync(tmp, 'w')
    try {
      for (let off = 0; off < content.length;) off += writeSync(fd, content, off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  }
  fsyncDir(file)
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

function fsyncDir(file: string): void {
  try {
    const fd = openSync(dirname(file), 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // some file systems refuse to fsync a folder; the data itself is synced
  }
}
