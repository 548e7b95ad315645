/**
 * The on-call side of `cache clear` and `cache stats` that is not the cache itself: the damaged copies moved
 * aside next to the cache file (`<file>.corrupt-<time>`, with their -wal and -shm), listed with their size and
 * removed by a clear, and the audit entry a clear leaves in the state folder's audit log (who, when, why, what
 * was removed), like every flag change. Throws the file system's errors when the audit log cannot be written.
 */
import {appendFileSync, mkdirSync, readdirSync, rmSync, statSync} from 'node:fs'
import {hostname} from 'node:os'
import {basename, dirname, join} from 'node:path'

import {type AuditEntry, auditFile, loadFlagState} from './flag-state.js'

export interface CorruptCopy {
  file: string
  bytes: number
}

/** Every moved-aside copy of `cacheFile` (its -wal and -shm counted with it). */
export function corruptCopies(cacheFile: string): CorruptCopy[] {
  const dir = dirname(cacheFile)
  const prefix = `${basename(cacheFile)}.corrupt-`
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(prefix))
  } catch {
    return []
  }
  const size = (name: string): number => {
    try {
      return statSync(join(dir, name)).size
    } catch {
      return 0
    }
  }
  return names
    .filter((n) => !/-(wal|shm)$/.test(n))
    .sort()
    .map((n) => ({file: join(dir, n), bytes: size(n) + size(`${n}-wal`) + size(`${n}-shm`)}))
}

/** Remove the moved-aside copies; returns what was removed. */
export function removeCorruptCopies(cacheFile: string): CorruptCopy[] {
  const copies = corruptCopies(cacheFile)
  for (const c of copies) for (const f of [c.file, `${c.file}-wal`, `${c.file}-shm`]) rmSync(f, {force: true})
  return copies
}

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
