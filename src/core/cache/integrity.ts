/**
 * Whether the parse cache file is sound: SQLite's integrity check plus every entry against its checksum
 * (`checkCache`, for `cache stats --check` and `verify`), and the errors a damaged result turns into
 * (`assertCacheHealthy`). `checkCache` reports damage in its result and throws LineageError E_CACHE only when
 * it could not check; `assertCacheHealthy` throws E_CACHE_CORRUPT (or E_CACHE) for a result that is not healthy.
 */
import {errorMessage, LineageError} from '../errors.js'
import {checksumMatches} from './entry.js'
import {closeQuietly, type Db, fileIdentity, isCorruption, isLegacy, notOurs, openCacheDb, schemaState} from './db.js'
import type {CacheStats} from './stats.js'

export interface CacheCheck {
  ok: boolean
  /** SQLite's integrity_check findings, or the error that shows the damage; empty when ok. */
  problems: string[]
  /**
   * Entries whose payload fails the checksum written with it (changed after it was written); null when the
   * file is too damaged to read them all. 0 for a cache of an older schema, whose entries have no checksum
   * and are dropped unread the next time watch (or cache clear) opens it.
   */
  badEntries: number | null
}

const CLEAR_HINT = 'Run "lineage cache clear" to remove it and start an empty cache; it refills as files are parsed.'

/**
 * SQLite's full integrity_check (quick_check skips index contents), then every entry's payload against its
 * checksum, which finds what SQLite cannot: a well-formed change inside a payload. Throws E_CACHE only if it
 * cannot run.
 */
export function checkCache(file: string): CacheCheck {
  if (fileIdentity(file) === undefined) return {ok: true, problems: [], badEntries: 0}
  let db: Db | undefined
  try {
    db = openCacheDb(file, {create: false})
    const state = schemaState(db)
    const problems = state === 'ours' || state === 'empty' || isLegacy(state) ? [] : [notOurs(file, state).message]
    const rows = db.pragma('integrity_check') as {integrity_check: string}[]
    problems.push(...rows.map((r) => r.integrity_check).filter((p) => p !== 'ok'))
    if (problems.length > 0) return {ok: false, problems, badEntries: null}
    const badEntries = state === 'ours' ? countBadEntries(db) : 0
    if (badEntries > 0) {
      const entries = badEntries === 1 ? '1 entry fails its checksum' : `${badEntries} entries fail their checksum`
      problems.push(`${entries}: the stored lineage was changed after it was written`)
    }
    return {ok: problems.length === 0, problems, badEntries}
  } catch (error) {
    if (isCorruption(error)) return {ok: false, problems: [errorMessage(error)], badEntries: null}
    throw new LineageError('E_CACHE', `cannot check the parse cache ${file}: ${errorMessage(error)}`)
  } finally {
    closeQuietly(db)
  }
}

/** Entries whose payload's exact bytes no longer match the checksum stored with them; one row at a time. */
function countBadEntries(db: Db): number {
  const rows = db
    .prepare<[], {key: Buffer; bytes: Buffer; checksum: Buffer}>(
      'SELECT key, CAST(lineage AS BLOB) AS bytes, checksum FROM entries',
    )
    .iterate()
  let bad = 0
  for (const row of rows) if (!checksumMatches(row.key, row.bytes, row.checksum)) bad++
  return bad
}

/** Throws E_CACHE_CORRUPT for a damaged cache and E_CACHE for one that cannot be read; passes a healthy one. */
export function assertCacheHealthy(stats: CacheStats, check: CacheCheck | null): void {
  if (stats.status === 'corrupt' || (check && !check.ok)) {
    const problems = stats.status === 'corrupt' ? [stats.problem ?? 'damaged'] : (check?.problems ?? [])
    const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? ` (and ${problems.length - 3} more)` : '')
    // Scripts get the count of entries that failed their checksum as a field, not only inside the message.
    const details = {badEntries: check?.badEntries ?? null}
    throw new LineageError('E_CACHE_CORRUPT', `the parse cache ${stats.file} is corrupt: ${shown}`, CLEAR_HINT, {
      details,
    })
  }
  if (stats.status === 'foreign' || stats.status === 'unreadable') {
    throw new LineageError('E_CACHE', `cannot read the parse cache: ${stats.problem ?? stats.status}`)
  }
}
