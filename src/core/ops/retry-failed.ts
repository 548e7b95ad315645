/**
 * Replay of the failed-ingestion file (`lineage retry-failed`); replay-plan.ts decides each entry,
 * replay-file.ts rewrites the file. In file order, chunk by chunk:
 * - skip what is already in the graph: an upsert whose SqlFile carries the same contentHash, an op superseded
 *   by a newer write of its path (a later op in the file, a SqlFile ingested after it, or a "superseded"
 *   marker the service wrote after a newer write of the path landed), a retraction whose file is gone;
 * - replay the rest through GraphWriter.applyPrepared (MERGE semantics: replaying twice adds nothing). In
 *   batched mode the write itself skips, as superseded, a path the graph got a newer write of after the
 *   skip decision (a running service catching up): it reads that under the path lock it writes under;
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
  withFileLock,
} from '../ingest/dead-letter.js'
import {errorMessage} from '../errors.js'
import {fragmentOp, quarantine, quarantineFileFor} from '../ingest/failed-quarantine.js'
import {loadFlagState, overrideValues} from './flag-state.js'
import type {FileRows, PreparedOp} from '../graph/model.js'
import {acquireLock} from '../util/lock.js'
import {dropMarkers, type EntrySlot, rewriteFile, type Slot} from './replay-file.js'
import {classify, type Decision, type Known, markedByPath, ms, newestByPath, type SkipReason} from './replay-plan.js'
import type {Logger} from '../logger.js'
import {resolveSettings, type Settings, type SettingsInput} from './settings.js'
import type {ReplayWriter, RetryFailedOptions, RetryFailedResult} from './retry-failed-types.js'

export type {ReplayWriter, RetryFailedOptions, RetryFailedResult, SkipReason} from './retry-failed-types.js'

/**
 * Settings as a running service sees them, operator overrides included (a rollback that turned neo4j-batch
 * off applies to the replay too). A damaged override file is ignored here: it must not block a replay.
 */
export function replaySettings(input: SettingsInput, logger: Logger): Settings {
  const base = resolveSettings(input)
  try {
    return resolveSettings({...input, overrides: overrideValues(loadFlagState(base.stateDir))})
  } catch (error) {
    logger.warn(`operator overrides ignored: ${errorMessage(error)}`)
    return base
  }
}

export async function retryFailed(options: RetryFailedOptions): Promise<RetryFailedResult> {
  const result = emptyResult(options)
  if (!fileExists(options.file)) return {...result, fileState: 'absent'}
  const first = inNamespace(parseLines(readFailures(options.file).content), options.namespace)
  result.invalidLines = first.invalid.map(({line, reason}) => ({line, reason}))
  result.invalid = first.invalid.length
  if (first.entries.length === 0) {
    // Markers alone supersede nothing any more.
    if (options.dryRun || first.markers.length + first.invalid.length === 0) {
      return finish(result, first.invalid.length, 'unchanged')
    }
    const state = await dropMarkers(options.file, first)
    if (state === 'unchanged') return finish(result, first.invalid.length, state)
    return finish({...result, quarantined: first.invalid.length}, 0, state)
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

/**
 * The lines with every entry in a namespace: an entry from before namespaces takes `current`, and keeps it
 * when it fails again and is written back.
 */
function inNamespace(lines: ParsedLines, current: string): ParsedLines {
  const entries = lines.entries.map((e) =>
    e.entry.namespace === undefined ? {...e, entry: {...e.entry, namespace: current}} : e,
  )
  return {...lines, entries}
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

async function replay(
  writer: ReplayWriter,
  options: RetryFailedOptions,
  result: RetryFailedResult,
): Promise<RetryFailedResult> {
  const clock = options.clock ?? (() => new Date())
  // Read under the lock: an append in progress is never seen half-written.
  let known = await withFileLock(options.file, () => readFailures(options.file).content)
  const {entries, invalid, markers} = inNamespace(parseLines(known), options.namespace)
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
  supersedeByFragments(decided.marked, invalid)
  // Bad lines go to the quarantine, counted, before the rewrite drops them: never kept here to fail forever.
  quarantine(
    options.file,
    invalid.map((i) => ({raw: i.raw.toString('utf8'), reason: i.reason})),
  )
  for (const slot of slots) if (slot.state === 'invalid') slot.state = 'done'
  result.quarantined = invalid.length

  let lastRewrite = Date.now()
  const rewrite = async (): Promise<void> => {
    const rewritten = await rewriteFile(options.file, known, slots)
    known = rewritten.content
    result.appended += rewritten.appendedLines
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
      toReplay.set(preparedFromEntry(slot.entry, options.namespace), slot)
      continue
    }
    countSkip(result, decision)
    slot.state = 'done'
    // A skipped upsert may have left nodes of a half-written attempt (baseline mode): clean those up.
    if (slot.entry.op === 'upsert' && decision === 'superseded') collectKeys(slot.entry.rows, orphans)
  }
  // skipNewer: the service may have written a path since classify read the graph; its write is the newer.
  const outcome = await writer.applyPrepared([...toReplay.keys()], {batched: options.batched, skipNewer: true})
  for (const item of outcome.written) {
    const slot = toReplay.get(item)
    if (slot) slot.state = 'done'
  }
  for (const item of outcome.superseded ?? []) {
    const slot = toReplay.get(item)
    if (!slot) continue
    slot.state = 'done'
    countSkip(result, 'superseded')
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

/**
 * A torn line that still names its path and time stands for a write of that path: the older entries of the
 * path must not be replayed over it (the upsert before a torn retraction would bring a deleted file back).
 */
function supersedeByFragments(marked: Map<string, number>, invalid: ParsedLines['invalid']): void {
  for (const i of invalid) {
    const named = fragmentOp(i.raw.toString('utf8'))
    if (named) marked.set(named.path, Math.max(marked.get(named.path) ?? 0, ms(named.opTime)))
  }
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

function collectKeys(rows: FileRows, into: {tables: Set<string>; columns: Set<string>}): void {
  for (const t of rows.tables) into.tables.add(t.key)
  for (const c of rows.columns) into.columns.add(c.key)
}

function countSkip(result: RetryFailedResult, reason: SkipReason): void {
  result.skipped++
  result.skippedBy[reason]++
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
    quarantined: 0,
    quarantineFile: quarantineFileFor(options.file),
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
