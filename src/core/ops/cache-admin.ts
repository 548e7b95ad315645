/**
 * The audit entry a `cache clear` leaves in the state folder's audit log (who, when, why, what was removed),
 * like every flag change: written through the one audit appender under the flag-state lock, naming the
 * current flag revision (unchanged by a clear). Throws E_STATE when the flag state is damaged or stays locked,
 * and the file system's errors when the audit log cannot be written.
 */
import {appendAudit} from './audit-log.js'
import {loadFlagState, withFlagStateLock} from './flag-state.js'

/** Record a cache clear in the audit log of `stateDir` (the flag revision is unchanged). */
export async function auditCacheClear(
  stateDir: string,
  what: {actor: string; reason: string | undefined; entries: number | null; copies: number},
): Promise<void> {
  const time = new Date().toISOString()
  await withFlagStateLock(stateDir, () => {
    appendAudit(stateDir, {
      time,
      actor: what.actor,
      action: `cache clear (${what.entries ?? 'unknown'} entries, ${what.copies} damaged copies)`,
      reason: what.reason,
      revision: loadFlagState(stateDir).revision,
      changes: [],
    })
  })
}
