/**
 * The operator override state: `STATE_DIR/overrides.json` (what operators set, and the active rollback)
 * and `STATE_DIR/audit.jsonl` (who changed what, when, why, and the values before), each parsed through its
 * valibot schema (FlagStateSchema, AuditEntrySchema), which the types are inferred from.
 *
 * Changes take the lock on overrides.json (util/lock.ts, waited for without blocking the event loop) and
 * replace the file atomically, so a running `watch` that polls the file never reads half a state and two
 * operators cannot interleave. A state file that cannot be parsed is an error (E_STATE), never silently
 * treated as empty: that would undo a rollback. Throws E_STATE when the state is damaged, unreadable or
 * stays locked, and the file system's errors when writing.
 */
import {appendFileSync, mkdirSync, readFileSync} from 'node:fs'
import {hostname, userInfo} from 'node:os'
import {join} from 'node:path'

import * as v from 'valibot'

import {errorMessage, LineageError} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'
import {withLock} from '../util/lock.js'
import {issueKeys, jsonObject, parseJson} from '../util/schema.js'
import type {SettingValue} from './settings.js'

const SettingValueSchema = v.union([v.boolean(), v.number(), v.string()])

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

const AuditEntrySchema = v.object({
  time: v.string(),
  actor: v.string(),
  host: v.string(),
  action: v.string(),
  reason: v.optional(v.string()),
  revision: v.number(),
  // JSON drops an undefined before or after (a value that had none).
  changes: v.array(
    v.object({key: v.string(), before: v.optional(SettingValueSchema), after: v.optional(SettingValueSchema)}),
  ),
})
export type AuditEntry = v.InferOutput<typeof AuditEntrySchema>

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
 * Apply a change under the lock. When it changes nothing (no value and no override differs), the file is
 * not touched and no audit entry is written: running the same rollback twice is a no-op.
 */
export async function mutateFlagState(
  stateDir: string,
  mutation: Mutation,
): Promise<{state: FlagState; changes: ValueChange[]; written: boolean}> {
  mkdirSync(stateDir, {recursive: true})
  const file = stateFile(stateDir)
  const locked = (holder: string, lock: string): LineageError =>
    stateError(`flag state ${stateDir} is locked by ${holder}`, `If none is running, remove ${lock}.`)
  return withLock(
    file,
    () => {
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
    },
    {lockedError: locked},
  )
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
    const json = parseJson(line)
    const parsed = json.ok ? v.safeParse(AuditEntrySchema, json.value) : undefined
    if (parsed?.success) entries.push(parsed.output)
    else damaged++
  }
  return {entries, damaged}
}
