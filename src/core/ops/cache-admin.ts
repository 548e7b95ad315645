/**
 * The audit entry a `cache clear` leaves in the state folder's audit log (who, when, why, what was removed),
 * like every flag change (the damaged copies it removes are listed by cache/corrupt-copies.ts). Throws the
 * file system's errors when the audit log cannot be written.
 */
import {appendFileSync, mkdirSync} from 'node:fs'
import {hostname} from 'node:os'

import {type AuditEntry, auditFile, loadFlagState} from './flag-state.js'

/** Record a cache clear in the audit log of `stateDir` (the flag revision is unchanged). */
export function auditCacheClear(
  stateDir: string,
  what: {actor: string; reason: string | undefined; entries: number | null; copies: number},
): void {
  mkdirSync(stateDir, {recursive: true})
  const entry: AuditEntry = {
    time: new Date().toISOString(),
    actor: what.actor,
    host: hostname(),
    action: `cache clear (${what.entries ?? 'unknown'} entries, ${what.copies} damaged copies)`,
    ...(what.reason ? {reason: what.reason} : {}),
    revision: loadFlagState(stateDir).revision,
    changes: [],
  }
  appendFileSync(auditFile(stateDir), `${JSON.stringify(entry)}\n`)
}
