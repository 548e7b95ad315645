/**
 * The audit log, `STATE_DIR/audit.jsonl`: one JSON line per operator change (who, when, on which host, why,
 * the flag revision and the values before and after), parsed through AuditEntrySchema. `appendAudit` is the
 * one writer, for flag changes and cache clears alike; it must be called holding the flag-state lock
 * (`withFlagStateLock` in flag-state.ts), so two operators' lines never interleave and each names the revision
 * it was written at. `readAudit` returns lines that do not parse as damaged rather than dropping them.
 * Throws E_STATE when the log cannot be read, and the file system's errors when appending.
 */
import {appendFileSync, mkdirSync, readFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'

import * as v from 'valibot'

import {errorMessage, LineageError} from '../errors.js'
import {parseJson} from '../util/schema.js'

/** A setting's value as the override file and the audit log hold it. */
export const SettingValueSchema = v.union([v.boolean(), v.number(), v.string()])

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

/** What a caller says of a change; the host is this machine's. */
export interface AuditRecord {
  time: string
  actor: string
  action: string
  reason?: string | undefined
  revision: number
  changes: AuditEntry['changes']
}

export function auditFile(stateDir: string): string {
  return join(stateDir, 'audit.jsonl')
}

/** Append one entry to the audit log of `stateDir`. Call it holding the flag-state lock. */
export function appendAudit(stateDir: string, record: AuditRecord): void {
  const entry: AuditEntry = {
    time: record.time,
    actor: record.actor,
    host: hostname(),
    action: record.action,
    ...(record.reason ? {reason: record.reason} : {}),
    revision: record.revision,
    changes: record.changes,
  }
  mkdirSync(stateDir, {recursive: true})
  appendFileSync(auditFile(stateDir), `${JSON.stringify(entry)}\n`)
}

/** The audit log, oldest first; lines that do not parse are returned as such rather than dropped. */
export function readAudit(stateDir: string): {entries: AuditEntry[]; damaged: number} {
  let text: string
  try {
    text = readFileSync(auditFile(stateDir), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {entries: [], damaged: 0}
    throw new LineageError('E_STATE', `cannot read audit log: ${errorMessage(error)}`)
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
