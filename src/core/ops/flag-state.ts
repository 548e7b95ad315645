/**
 * The operator override state: `STATE_DIR/overrides.json` (what operators set, and the active rollback)
 * and the audit entry each change appends to `STATE_DIR/audit.jsonl` (audit-log.ts: who changed what, when,
 * why, and the values before); the state is parsed through its valibot schema (FlagStateSchema), which its
 * type is inferred from.
 *
 * Changes take the lock on overrides.json (util/lock.ts, waited for without blocking the event loop) and
 * replace the file atomically, so a running `watch` that polls the file never reads half a state and two
 * operators cannot interleave; every audit append takes the same lock (`withFlagStateLock`). A state file
 * that cannot be parsed is an error (E_STATE), never silently treated as empty: that would undo a rollback.
 * Throws E_STATE when the state is damaged, unreadable or stays locked, and the file system's errors when
 * writing.
 */
import {mkdirSync, readFileSync} from 'node:fs'
import {userInfo} from 'node:os'
import {join} from 'node:path'

import * as v from 'valibot'

import {errorMessage, LineageError} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'
import {withLock} from '../util/lock.js'
import {issueKeys, jsonObject, parseJson} from '../util/schema.js'
import {appendAudit, SettingValueSchema} from './audit-log.js'
import type {SettingValue} from './settings.js'

const OverrideEntrySchema = v.object({
  value: SettingValueSchema,
  by: v.string(),
  at: v.string(),
  reason: v.optional(v.string()),
})
export type OverrideEntry = v.InferOutput<typeof OverrideEntrySchema>

const RollbackRecordSchema = v.object({
  kind: v.picklist(['emergency', 'gradual']),
  by: v.string(),
  at: v.string(),
  reason: v.optional(v.string()),
  /** The override each key had before the rollback began (null: none), so `rollback restore` can put it back. */
  before: jsonObject(v.record(v.string(), v.nullable(OverrideEntrySchema)), 'before is not an object'),
})
export type RollbackRecord = v.InferOutput<typeof RollbackRecordSchema>

export const FlagStateSchema = jsonObject(
  v.object({
    version: v.literal(1),
    /** Increases with every change; a running service reports the revision it applied. */
    revision: v.number(),
    updatedAt: v.fallback(v.nullable(v.string()), null),
    overrides: jsonObject(v.record(v.string(), OverrideEntrySchema), 'overrides is not an object'),
    rollback: v.optional(v.nullable(jsonObject(RollbackRecordSchema, 'rollback')), null),
  }),
  'bad header',
)
export type FlagState = v.InferOutput<typeof FlagStateSchema>

export interface ValueChange {
  key: string
  before: SettingValue | undefined
  after: SettingValue | undefined
}

export const EMPTY_STATE: FlagState = {version: 1, revision: 0, updatedAt: null, overrides: {}, rollback: null}

export function stateFile(stateDir: string): string {
  return join(stateDir, 'overrides.json')
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

/** Validate parsed JSON into a FlagState; throws E_STATE naming what is damaged. */
export function parseFlagState(json: unknown, file: string): FlagState {
  const parsed = v.safeParse(FlagStateSchema, json)
  if (parsed.success) return parsed.output
  throw stateError(
    `flag state ${file} is damaged (${damage(issueKeys(parsed.issues[0]))})`,
    `Inspect it, or run "lineage flags reset" to drop all overrides (the audit log keeps the history).`,
  )
}

/** Where the first problem is, in the words operators saw before: the header, an override, the rollback. */
function damage([top, key]: string[]): string {
  if (top === 'overrides') return key === undefined ? 'overrides is not an object' : `override ${key}`
  if (top === 'rollback') return 'rollback'
  return 'bad header'
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
  const json = parseJson(text)
  // Text that is not JSON is reported as damaged like any other bad state.
  return parseFlagState(json.ok ? json.value : null, file)
}

/** Override values only, keyed by setting name, as `resolveSettings` takes them. */
export function overrideValues(state: FlagState): Record<string, SettingValue> {
  return Object.fromEntries(Object.entries(state.overrides).map(([k, e]) => [k, e.value]))
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
 * Run `fn` holding the lock on the flag state of `stateDir`: what every change to the state or the audit log
 * runs under. Throws E_STATE naming the holder when the lock stays held.
 */
export async function withFlagStateLock<T>(stateDir: string, fn: () => T | Promise<T>): Promise<T> {
  mkdirSync(stateDir, {recursive: true})
  const locked = (holder: string, lock: string): LineageError =>
    stateError(`flag state ${stateDir} is locked by ${holder}`, `If none is running, remove ${lock}.`)
  return withLock(stateFile(stateDir), fn, {lockedError: locked})
}

/**
 * Apply a change under the lock. When it changes nothing (no value and no override differs), the file is
 * not touched and no audit entry is written: running the same rollback twice is a no-op.
 */
export async function mutateFlagState(
  stateDir: string,
  mutation: Mutation,
): Promise<{state: FlagState; changes: ValueChange[]; written: boolean}> {
  const file = stateFile(stateDir)
  return withFlagStateLock(stateDir, () => {
    const current = loadFlagState(stateDir)
    const {next, changes} = mutation.apply(structuredClone(current))
    const same =
      JSON.stringify({o: next.overrides, r: next.rollback}) ===
      JSON.stringify({o: current.overrides, r: current.rollback})
    if (same) return {state: current, changes: [], written: false}
    const time = (mutation.clock ?? (() => new Date()))().toISOString()
    const state: FlagState = {...next, version: 1, revision: current.revision + 1, updatedAt: time}
    // No fsync, as before: the rename alone keeps the file whole for the service polling it.
    writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, {fsync: false})
    appendAudit(stateDir, {
      time,
      actor: mutation.actor,
      action: mutation.action,
      reason: mutation.reason,
      revision: state.revision,
      changes,
    })
    return {state, changes, written: true}
  })
}
