/**
 * The operator override state: `STATE_DIR/overrides.json` (what operators set, and the active rollback)
 * and `STATE_DIR/audit.jsonl` (who changed what, when, why, and the values before).
 *
 * Writes take a lock folder, write a temp file and rename it, so a running `watch` that polls the file
 * never reads half a state and two operators cannot interleave. A state file that cannot be parsed
 * is an error (E_STATE), never silently treated as empty: that would undo a rollback.
 */
import {appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'

import {errorMessage, LineageError} from '../errors.js'
import type {SettingValue} from './settings.js'

export interface OverrideEntry {
  value: SettingValue
  by: string
  at: string
  reason?: string
}

export interface RollbackRecord {
  kind: 'emergency' | 'gradual'
  by: string
  at: string
  reason?: string
  /** The override each key had before the rollback began (null: none), so `rollback restore` can put it back. */
  before: Record<string, OverrideEntry | null>
}

export interface FlagState {
  version: 1
  /** Increases with every change; a running service reports the revision it applied. */
  revision: number
  updatedAt: string | null
  overrides: Record<string, OverrideEntry>
  rollback: RollbackRecord | null
}

export interface ValueChange {
  key: string
  before: SettingValue | undefined
  after: SettingValue | undefined
}

export interface AuditEntry {
  time: string
  actor: string
  host: string
  action: string
  reason?: string
  revision: number
  changes: ValueChange[]
}

export const EMPTY_STATE: FlagState = {version: 1, revision: 0, updatedAt: null, overrides: {}, rollback: null}

export function stateFile(stateDir: string): string {
  return join(stateDir, 'overrides.json')
}

export function auditFile(stateDir: string): string {
  return join(stateDir, 'audit.jsonl')
}

/** Who is acting: LINEAGE_ACTOR, else the sudo user, else the login user. */
export function actorFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.LINEAGE_ACTOR ?? env.SUDO_USER ?? env.USER ?? env.LOGNAME
  if (named) return named
  try {
    return userInfo().username
  } catch {
    return 'unknown'
  }
}

function stateError(message: string, hint?: string): LineageError {
  return new LineageError('E_STATE', message, hint)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseEntry(value: unknown): OverrideEntry | null {
  if (!isRecord(value)) return null
  const v = value.value
  if (typeof v !== 'boolean' && typeof v !== 'number' && typeof v !== 'string') return null
  if (typeof value.by !== 'string' || typeof value.at !== 'string') return null
  return {value: v, by: value.by, at: value.at, ...(typeof value.reason === 'string' ? {reason: value.reason} : {})}
}

/** Validate parsed JSON into a FlagState; throws E_STATE on anything unexpected. */
export function parseFlagState(json: unknown, file: string): FlagState {
  const bad = (what: string): LineageError =>
    stateError(
      `flag state ${file} is damaged (${what})`,
      `Inspect it, or run "lineage flags reset" to drop all overrides (the audit log keeps the history).`,
    )
  if (!isRecord(json) || json.version !== 1 || typeof json.revision !== 'number') throw bad('bad header')
  if (!isRecord(json.overrides)) throw bad('overrides is not an object')
  const overrides: Record<string, OverrideEntry> = {}
  for (const [key, raw] of Object.entries(json.overrides)) {
    const entry = parseEntry(raw)
    if (!entry) throw bad(`override ${key}`)
    overrides[key] = entry
  }
  let rollback: RollbackRecord | null = null
  if (json.rollback !== null && json.rollback !== undefined) {
    const r = json.rollback
    if (!isRecord(r) || (r.kind !== 'emergency' && r.kind !== 'gradual') || !isRecord(r.before)) throw bad('rollback')
    if (typeof r.by !== 'string' || typeof r.at !== 'string') throw bad('rollback')
    const before: Record<string, OverrideEntry | null> = {}
    for (const [key, raw] of Object.entries(r.before)) before[key] = raw === null ? null : parseEntry(raw)
    rollback = {kind: r.kind, by: r.by, at: r.at, before, ...(typeof r.reason === 'string' ? {reason: r.reason} : {})}
  }
  return {
    version: 1,
    revision: json.revision,
    updatedAt: typeof json.updatedAt === 'string' ? json.updatedAt : null,
    overrides,
    rollback,
  }
}

/** Read the state; a missing file is the empty state. */
export function loadFlagState(stateDir: string): FlagState {
  const file = stateFile(stateDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY_STATE)
    throw stateError(`cannot read flag state ${file}: ${errorMessage(error)}`)
  }
  let json: unknown = null
  try {
    json = JSON.parse(text)
  } catch {
    // falls through to parseFlagState, which reports the file as damaged
  }
  return parseFlagState(json, file)
}

/** Override values only, keyed by setting name, as `resolveSettings` takes them. */
export function overrideValues(state: FlagState): Record<string, SettingValue> {
  return Object.fromEntries(Object.entries(state.overrides).map(([k, e]) => [k, e.value]))
}

function withLock<T>(stateDir: string, fn: () => T): T {
  const lock = join(stateDir, '.lock')
  const deadline = Date.now() + 5000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      // A lock older than 30 s was left by a killed process.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, {recursive: true, force: true})
      } catch {
        // raced with its owner removing it
      }
      if (Date.now() > deadline) {
        throw stateError(`flag state ${stateDir} is locked by another command`, `If none is running, remove ${lock}.`)
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25)
    }
  }
  try {
    return fn()
  } finally {
    rmSync(lock, {recursive: true, force: true})
  }
}

export interface Mutation {
  action: string
  actor: string
  reason?: string | undefined
  /** Compute the next state from the current one and say which effective values change. */
  apply(state: FlagState): {next: FlagState; changes: ValueChange[]}
  clock?: () => Date
}

/**
 * Apply a change under the lock. When it changes nothing (no value and no override differs), the file is
 * not touched and no audit entry is written: running the same rollback twice is a no-op.
 */
export function mutateFlagState(
  stateDir: string,
  mutation: Mutation,
): {state: FlagState; changes: ValueChange[]; written: boolean} {
  mkdirSync(stateDir, {recursive: true})
  return withLock(stateDir, () => {
    const current = loadFlagState(stateDir)
    const {next, changes} = mutation.apply(structuredClone(current))
    const same =
      JSON.stringify({o: next.overrides, r: next.rollback}) ===
      JSON.stringify({o: current.overrides, r: current.rollback})
    if (same) return {state: current, changes: [], written: false}
    const time = (mutation.clock ?? (() => new Date()))().toISOString()
    const state: FlagState = {...next, version: 1, revision: current.revision + 1, updatedAt: time}
    const file = stateFile(stateDir)
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`)
    renameSync(tmp, file)
    const entry: AuditEntry = {
      time,
      actor: mutation.actor,
      host: hostname(),
      action: mutation.action,
      ...(mutation.reason ? {reason: mutation.reason} : {}),
      revision: state.revision,
      changes,
    }
    appendFileSync(auditFile(stateDir), `${JSON.stringify(entry)}\n`)
    return {state, changes, written: true}
  })
}

/** The audit log, oldest first; lines that do not parse are returned as such rather than dropped. */
export function readAudit(stateDir: string): {entries: AuditEntry[]; damaged: number} {
  let text: string
  try {
    text = readFileSync(auditFile(stateDir), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {entries: [], damaged: 0}
    throw stateError(`cannot read audit log: ${errorMessage(error)}`)
  }
  const entries: AuditEntry[] = []
  let damaged = 0
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      const parsed = JSON.parse(line) as unknown
      if (isRecord(parsed) && typeof parsed.time === 'string' && typeof parsed.action === 'string') {
        entries.push(parsed as unknown as AuditEntry)
      } else damaged++
    } catch {
      damaged++
    }
  }
  return {entries, damaged}
}
