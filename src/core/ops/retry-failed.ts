/**
 * Replay of the failed-ingestion file (`lineage retry-failed`). In file order, chunk by chunk:
 * - skip what is already in the graph: an upsert whose SqlFile carries the same contentHash, an op superseded
 *   by a newer write of its path (a later op in the file, a SqlFile ingested after it, or a "superseded"
 *   marker the service wrote after a newer write of the path landed), a retraction whose file is gone;
 * - replay the rest through GraphWriter.applyPrepared (MERGE semantics: replaying twice adds nothing);
 * - rewrite the file (under the appenders' lock, temp + rename) so it keeps only what still fails, the
 *   invalid lines, the lines not yet reached and whatever a running service appended meanwhile; a marker
 *   is dropped once no older entry of its path is left.
 * A kill at any moment loses nothing: a line leaves the file only after its write committed. When Neo4j
 * drops mid-way the replay stops and the rest stays. Only one replay runs per file (the lock on
 * `<file>.replay`, util/lock.ts: a second replay fails at once; a killed replay's lock is broken).
 * Throws what openWriter throws (E_NEO4J_UNAVAILABLE before anything changed), LineageError E_LOCKED when
 * another replay runs or the file stays locked, E_INTERNAL when the file is changed under it, and file system
 * errors.
 */
import {statSync} from 'node:fs'

import {
  type DeadLetterEntry,
  type ParsedLines,
  parseLines,
  preparedFromEntry,
  readFailures,
  replaceFile,
  withFileLock,
} from '../ingest/dead-letter.js'
import {errorMessage, LineageError} from '../errors.js'
import {loadFlagState, overrideValues} from './flag-state.js'
import type {FileRows, PreparedOp} from '../graph/model.js'
import {acquireLock} from '../util/lock.js'
import type {FileState, PreparedResult} from '../graph/writer.js'
import type {Logger} from '../logger.js'
import {resolveSettings, type Settings} from './settings.js'

/** The part of GraphWriter a replay uses. */
export interface ReplayWriter {
  applyPrepared(items: PreparedOp[], options: {batched: boolean}): Promise<PreparedResult>
  fileStates(paths: string[]): Promise<Map<string, FileState>>
  removeOrphans(tableKeys: Iterable<string>, columnKeys: Iterable<string>): Promise<void>
  close(): Promise<void>
}

export interface RetryFailedOptions {
  file: string
  openWriter: () => Promise<ReplayWriter>
  batched: boolean
  /** Entries per replay chunk; the file is rewritten after each committed chunk. */
  batchSize: number
  dryRun: boolean
  logger: Logger
  clock?: () => Date
  /** Rewrite at most this often (ms) between chunks; the last rewrite always happens. */
  rewriteIntervalMs?: number
}

export type SkipReason = 'sameContent' | 'superseded' | 'gone'

export interface RetryFailedResult {
  file: string
  dryRun: boolean
  /** Entries (valid lines) read. */
  entries: number
  replayed: number
  skipped: number
  skippedBy: Record<SkipReason, number>
  stillFailing: number
  /** Not tried because Neo4j went away during the replay. */
  notAttempted: number
  invalid: number
  /** Line numbers of the invalid lines, and why. */
  invalidLines: {line: number; reason: string}[]
  /** Lines a running service appended during the replay (kept for the next run). */
  appended: number
  /** Lines left in the file. */
  remaining: number
  /** absent: there was no file; removed: everything went in; rewritten; unchanged (dry run, or nothing done). */
  fileState: 'absent' | 'removed' | 'rewritten' | 'unchanged'
  errors: string[]
}

type SlotState = 'pending' | 'done' | 'failed' | 'invalid' | 'appended' | 'marker'
interface Slot {
  /** The line without its newline; for 'appended', the bytes as they were appended. */
  raw: Buffer
  entry?: DeadLetterEntry
  /** For a marker: its path and time (ms). */
  marker?: {path: string; at: number}
  state: SlotState
}
type EntrySlot = Slot & {entry: DeadLetterEntry}

/**
 * Settings as a running service sees them, operator overrides included (a rollback that turned neo4j-batch
 * off applies to the replay too). A damaged override file is ignored here: it must not block a replay.
 */
export function replaySettings(configFile: string | undefined, logger: Logger): Settings {
  const base = resolveSettings({configFile})
  try {
    return resolveSettings({configFile, overrides: overrideValues(loadFlagState(base.stateDir))})
  } catch (error) {
    logger.warn(`operator overrides ignored: ${errorMessage(error)}`)
    return base
  }
}

export async function retryFailed(options: RetryFailedOptions): Promise<RetryFailedResult> {
  const result = emptyResult(options)
  if (!fileExists(options.file)) return {...result, fileState: 'absent'}
  const first = parseLines(readFailures(options.file).content)
  result.invalidLines = first.invalid.map(({line, reason}) => ({line, reason}))
  result.invalid = first.invalid.length
  if (first.entries.length === 0) {
    // Markers alone supersede nothing any more.
    if (first.markers.length === 0 || options.dryRun) return finish(result, first.invalid.length, 'unchanged')
    return finish(result, first.invalid.length, await dropMarkers(options.file, first))
  }

  const writer = await options.openWriter()
  try {
    if (options.dryRun) return await dryRun(writer, first, result)
    const lock = await acquireLock(`${options.file}.replay`, {waitMs: 0})
    try {
      return await replay(writer, options, result)
    } finally {
      await lock.release()
    }
  } finally {
    await writer.close()
  }
}

async function dryRun(writer: ReplayWriter, lines: ParsedLines, result: RetryFailedResult): Promise<RetryFailedResult> {
  const all = lines.entries.map((e) => e.entry)
  const plan = await classify(writer, all, {newest: newestByPath(all), marked: markedByPath(lines.markers)})
  for (const decision of plan.values()) {
    if (decision === 'replay') result.replayed++
    else countSkip(result, decision)
  }
  result.entries = all.length
  return finish(result, all.length + result.invalid + lines.markers.length, 'unchanged')
}

/** Rewrite a file that holds no entries without its markers (left as it is when it changed meanwhile). */
async function dropMarkers(file: string, read: ParsedLines): Promise<RetryFailedResult['fileState']> {
  const keep = read.invalid.map((i) => Buffer.concat([i.raw, NEWLINE]))
  const drop = new Set(read.markers.map((m) => m.line))
  return withFileLock(file, () => {
    const current = parseLines(readFailures(file).content)
    const same =
      current.entries.length === 0 &&
      current.invalid.length === read.invalid.length &&
      current.markers.every((m) => drop.has(m.line))
    if (!same) return 'unchanged'
    replaceFile(file, Buffer.concat(keep))
    return keep.length === 0 ? 'removed' : 'rewritten'
  })
}

async function replay(
  writer: ReplayWriter,
  options: RetryFailedOptions,
  result: RetryFailedResult,
): Promise<RetryFailedResult> {
  const clock = options.clock ?? (() => new Date())
  // Read under the lock: an append in progress is never seen half-written.
  let known = await withFileLock(options.file, () => readFailures(options.file).content)
  const {entries, invalid, markers} = parseLines(known)
  const slots: Slot[] = [
    ...entries.map((e) => ({line: e.line, slot: {raw: e.raw, entry: e.entry, state: 'pending' as const}})),
    ...invalid.map((i) => ({line: i.line, slot: {raw: i.raw, state: 'invalid' as const}})),
    ...markers.map((m) => ({
      line: m.line,
      slot: {raw: m.raw, marker: {path: m.marker.path, at: ms(m.marker.opTime)}, state: 'marker' as const},
    })),
  ]
    .sort((x, y) => x.line - y.line)
    .map((x) => x.slot)
  const pending = slots.filter((s): s is EntrySlot => s.entry !== undefined)
  result.entries = pending.length
  result.invalid = invalid.length
  result.invalidLines = invalid.map(({line, reason}) => ({line, reason}))
  const decided: Known = {newest: newestByPath(pending.map((s) => s.entry)), marked: markedByPath(markers)}

  let lastRewrite = Date.now()
  const rewrite = async (): Promise<void> => {
    known = await rewriteFile(options.file, known, slots, result)
    lastRewrite = Date.now()
  }
  for (let i = 0; i < pending.length; i += options.batchSize) {
    const chunk = pending.slice(i, i + options.batchSize)
    const stop = await replayChunk(writer, options, {chunk, known: decided, result, clock})
    if (stop) break
    if (Date.now() - lastRewrite >= (options.rewriteIntervalMs ?? 250)) await rewrite()
  }
  result.notAttempted = pending.filter((s) => s.state === 'pending').length
  retireMarkers(slots)
  await rewrite()
  const remaining = slots.filter((s) => s.state !== 'done' && s.state !== 'appended').length + result.appended
  return finish(result, remaining, remaining === 0 ? 'removed' : 'rewritten')
}

/** Replay one chunk; true when Neo4j is gone and the replay should stop. */
async function replayChunk(
  writer: ReplayWriter,
  options: RetryFailedOptions,
  {chunk, known, result, clock}: {chunk: EntrySlot[]; known: Known; result: RetryFailedResult; clock: () => Date},
): Promise<boolean> {
  let plan: Map<DeadLetterEntry, Decision>
  try {
    plan = await classify(
      writer,
      chunk.map((s) => s.entry),
      known,
    )
  } catch (error) {
    result.errors.push(`cannot read the graph: ${errorMessage(error)}`)
    return true
  }
  const toReplay = new Map<PreparedOp, EntrySlot>()
  const orphans = {tables: new Set<string>(), columns: new Set<string>()}
  for (const slot of chunk) {
    const decision = plan.get(slot.entry) ?? 'replay'
    if (decision === 'replay') {
      toReplay.set(preparedFromEntry(slot.entry), slot)
      continue
    }
    countSkip(result, decision)
    slot.state = 'done'
    // A skipped upsert may have left nodes of a half-written attempt (baseline mode): clean those up.
    if (slot.entry.op === 'upsert' && decision === 'superseded') collectKeys(slot.entry.rows, orphans)
  }
  const outcome = await writer.applyPrepared([...toReplay.keys()], {batched: options.batched})
  for (const item of outcome.written) {
    const slot = toReplay.get(item)
    if (slot) slot.state = 'done'
  }
  result.replayed += outcome.written.length
  const time = clock().toISOString()
  for (const f of outcome.failed) {
    const slot = toReplay.get(f.item)
    if (!slot) continue
    slot.state = 'failed'
    slot.entry = {...slot.entry, error: f.error, code: f.code, time, attempts: slot.entry.attempts + 1}
    slot.raw = Buffer.from(JSON.stringify(slot.entry))
  }
  result.stillFailing += outcome.failed.length
  if (orphans.tables.size + orphans.columns.size > 0) {
    try {
      await writer.removeOrphans(orphans.tables, orphans.columns)
    } catch (error) {
      options.logger.warn(`orphan clean-up failed: ${errorMessage(error)}`)
    }
  }
  const unavailable = outcome.failed.length > 0 && outcome.failed.every((f) => f.code === 'E_NEO4J_UNAVAILABLE')
  if (unavailable) result.errors.push(`Neo4j became unavailable: ${outcome.failed[0]?.error ?? ''}`)
  return unavailable
}

type Decision = 'replay' | SkipReason

type Newest = Map<string, DeadLetterEntry>
/** What decides an entry besides the graph: the newest entry of each path, the newest marker of each path (ms). */
interface Known {
  newest: Newest
  marked: Map<string, number>
}

function markedByPath(markers: ParsedLines['markers']): Map<string, number> {
  const marked = new Map<string, number>()
  for (const {marker} of markers) marked.set(marker.path, Math.max(marked.get(marker.path) ?? 0, ms(marker.opTime)))
  return marked
}

/** A marker stays while an entry of its path older than it is still in the file. */
function retireMarkers(slots: Slot[]): void {
  const left = slots.filter((s) => s.entry !== undefined && s.state !== 'done')
  for (const slot of slots) {
    const m = slot.marker
    if (!m || slot.state !== 'marker') continue
    if (!left.some((s) => s.entry?.path === m.path && ms(s.entry.opTime) < m.at)) slot.state = 'done'
  }
}

/** Within the file, the newest op of a path wins (ties: the later line); the others are superseded. */
function newestByPath(entries: DeadLetterEntry[]): Newest {
  const newest: Newest = new Map()
  for (const e of entries) {
    const seen = newest.get(e.path)
    if (!seen || ms(e.opTime) >= ms(seen.opTime)) newest.set(e.path, e)
  }
  return newest
}

/** Decide each entry: replay, or skip and why. */
async function classify(
  writer: ReplayWriter,
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

/**
 * Write the slots not yet done, then whatever was appended since `known` (kept as it is, and from now on
 * part of the slots); returns the new content.
 */
async function rewriteFile(file: string, known: Buffer, slots: Slot[], result: RetryFailedResult): Promise<Buffer> {
  return withFileLock(file, () => {
    const current = readFailures(file).content
    if (current.length < known.length || !current.subarray(0, known.length).equals(known)) {
      throw new LineageError(
        'E_INTERNAL',
        `${file} was changed by something other than an append during the replay; left as it is`,
        'Run "lineage retry-failed" again: entries already in the graph are skipped.',
      )
    }
    const appended = current.subarray(known.length)
    if (appended.length > 0) {
      slots.push({raw: Buffer.from(appended), state: 'appended'})
      result.appended += countLines(appended)
    }
    const parts = slots
      .filter((s) => s.state !== 'done')
      .map((s) => (s.state === 'appended' ? s.raw : Buffer.concat([s.raw, NEWLINE])))
    const next = Buffer.concat(parts)
    replaceFile(file, next)
    return next
  })
}

const NEWLINE = Buffer.from('\n')

function collectKeys(rows: FileRows, into: {tables: Set<string>; columns: Set<string>}): void {
  for (const t of rows.tables) into.tables.add(t.key)
  for (const c of rows.columns) into.columns.add(c.key)
}

function countSkip(result: RetryFailedResult, reason: SkipReason): void {
  result.skipped++
  result.skippedBy[reason]++
}

function countLines(buf: Buffer): number {
  return buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length
}

const ms = (iso: string): number => {
  const t = Date.parse(iso)
  return Number.isNaN(t) ? 0 : t
}

function fileExists(file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
}

function emptyResult(options: RetryFailedOptions): RetryFailedResult {
  return {
    file: options.file,
    dryRun: options.dryRun,
    entries: 0,
    replayed: 0,
    skipped: 0,
    skippedBy: {sameContent: 0, superseded: 0, gone: 0},
    stillFailing: 0,
    notAttempted: 0,
    invalid: 0,
    invalidLines: [],
    appended: 0,
    remaining: 0,
    fileState: 'unchanged',
    errors: [],
  }
}

function finish(
  result: RetryFailedResult,
  remaining: number,
  fileState: RetryFailedResult['fileState'],
): RetryFailedResult {
  return {...result, remaining, fileState}
}
