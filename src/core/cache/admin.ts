/**
 * What the `cache stats` and `cache clear` commands do to the parse cache file, from any process, while a
 * running `watch` may have it open: read its statistics, check its integrity, empty it, and describe the
 * results.
 *
 * Throws: `cacheStats` never throws (a missing, corrupt or unreadable file is a status in the result);
 * `checkCache` reports damage in its result and throws LineageError E_CACHE only when it could not check;
 * `clearCache` throws LineageError E_CACHE when the file cannot be emptied or removed (or is not a parse
 * cache); `assertCacheHealthy` throws E_CACHE_CORRUPT (or E_CACHE) for a result that is not healthy. The human
 * lines for these results are in src/ui/cache.ts.
 */
import {readdirSync, rmSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {errorMessage, isLineageError, LineageError} from '../errors.js'
import {checksumMatches} from './entry.js'
import {
  closeQuietly,
  type Db,
  diskSize,
  fileIdentity,
  isCorruption,
  isLegacy,
  notOurs,
  openCacheDb,
  removeSidecars,
  sameIdentity,
  schemaState,
} from './db.js'

export type CacheStatus = 'ok' | 'missing' | 'corrupt' | 'foreign' | 'unreadable'

export interface CacheStats {
  file: string
  /** ok; missing (no cache yet); corrupt; foreign (a SQLite file that is not a parse cache); unreadable. */
  status: CacheStatus
  /** Why the status is not ok or missing. */
  problem: string | null
  entries: number
  /** Database plus WAL, in bytes. */
  sizeBytes: number
  dbBytes: number
  walBytes: number
  hits: number
  misses: number
  /** hits / (hits + misses), null before the first lookup. */
  hitRate: number | null
  /** When counting began: the cache's creation or its last clear (ISO time). */
  countersSince: string | null
  oldestEntry: string | null
  newestEntry: string | null
  parserVersions: {parserVersion: string; entries: number}[]
  dialects: {dialect: string; entries: number}[]
  /** Damaged copies moved aside next to the file (`<file>.corrupt-<time>`). */
  quarantined: string[]
}

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

export interface CacheStatsResult extends CacheStats {
  /** The integrity check, when --check asked for it and there was a file to check. */
  check: CacheCheck | null
}

export interface ClearResult {
  file: string
  /** emptied in place; recreated (the file was damaged, so it was removed); missing (nothing to clear). */
  action: 'emptied' | 'recreated' | 'missing'
  /** Entries removed; null when the file was too damaged to count them. */
  entries: number | null
  bytesBefore: number
  bytesAfter: number
  bytesFreed: number
  /** Why the file was recreated. */
  reason: string | null
}

const CLEAR_HINT = 'Run "lineage cache clear" to remove it and start an empty cache; it refills as files are parsed.'

/** Statistics of the cache at `file`; never throws. */
export function cacheStats(file: string): CacheStats {
  const base = emptyStats(file)
  if (fileIdentity(file) === undefined) return {...base, status: 'missing'}
  let db: Db | undefined
  try {
    db = openCacheDb(file, {create: false})
    const state = schemaState(db)
    if (state === 'empty') return base
    // An older schema has the same columns these statistics read.
    if (state !== 'ours' && !isLegacy(state)) return {...base, status: 'foreign', problem: notOurs(file, state).message}
    return readCacheStats(db, file)
  } catch (error) {
    return {...base, status: isCorruption(error) ? 'corrupt' : 'unreadable', problem: errorMessage(error)}
  } finally {
    closeQuietly(db)
  }
}

/** Statistics through an open connection (throws what SQLite throws). */
export function readCacheStats(db: Db, file: string): CacheStats {
  // One read transaction, so one snapshot: entries and counters taken during a write belong to one moment.
  const {groups, counters} = db.transaction(() => ({
    groups: db
      .prepare(
        `SELECT parser_version AS parserVersion, dialect, count(*) AS entries, min(created_at) AS oldest,
          max(created_at) AS newest FROM entries GROUP BY parser_version, dialect`,
      )
      .all() as Group[],
    counters: new Map(
      (db.prepare('SELECT name, value FROM counters').all() as {name: string; value: number}[]).map((r) => [
        r.name,
        r.value,
      ]),
    ),
  }))()
  const hits = counters.get('hits') ?? 0
  const misses = counters.get('misses') ?? 0
  const since = counters.get('since')
  const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())
  const oldest = groups.length === 0 ? undefined : groups.reduce((m, g) => Math.min(m, g.oldest), Infinity)
  const newest = groups.length === 0 ? undefined : groups.reduce((m, g) => Math.max(m, g.newest), -Infinity)
  return {
    ...emptyStats(file),
    entries: groups.reduce((n, g) => n + g.entries, 0),
    hits,
    misses,
    hitRate: hits + misses === 0 ? null : hits / (hits + misses),
    countersSince: iso(since),
    oldestEntry: iso(oldest),
    newestEntry: iso(newest),
    parserVersions: tally(groups, 'parserVersion').map(([parserVersion, entries]) => ({parserVersion, entries})),
    dialects: tally(groups, 'dialect').map(([dialect, entries]) => ({dialect, entries})),
  }
}

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

/**
 * Empty the cache. A healthy file is emptied in place (entries deleted, counters reset, VACUUM), so a
 * running watcher's connection stays valid; a damaged one is removed and recreated empty, and watchers
 * reopen it within about a second.
 */
export function clearCache(file: string, now: Date = new Date()): ClearResult {
  const size = (): number => {
    const {dbBytes, walBytes} = diskSize(file)
    return dbBytes + walBytes
  }
  const bytesBefore = size()
  const identity = fileIdentity(file)
  const result = (action: ClearResult['action'], entries: number | null, reason: string | null): ClearResult => {
    const bytesAfter = size()
    return {file, action, entries, bytesBefore, bytesAfter, bytesFreed: Math.max(0, bytesBefore - bytesAfter), reason}
  }
  if (identity === undefined) return result('missing', 0, null)
  try {
    return result('emptied', emptyInPlace(file, now.getTime()), null)
  } catch (error) {
    if (isLineageError(error)) throw error
    if (!isCorruption(error)) throw clearFailed(file, error)
    try {
      // Leave a file someone else (a watcher's own recovery) has already put in its place.
      if (sameIdentity(fileIdentity(file), identity)) {
        rmSync(file, {force: true})
        removeSidecars(file)
      }
      closeQuietly(openCacheDb(file, {create: true, now: now.getTime()}))
    } catch (error2) {
      throw isLineageError(error2) ? error2 : clearFailed(file, error2)
    }
    return result('recreated', null, errorMessage(error))
  }
}

function emptyInPlace(file: string, now: number): number {
  const db = openCacheDb(file, {create: true, now})
  try {
    const removed = db
      .transaction(() => {
        const n = db.prepare('DELETE FROM entries').run().changes
        db.prepare(`UPDATE counters SET value = CASE name WHEN 'since' THEN ? ELSE 0 END`).run(now)
        return n
      })
      .immediate()
    try {
      // Give the space back; best effort, since a busy watcher may hold the write lock past the timeout.
      db.exec('VACUUM')
      db.pragma('wal_checkpoint(TRUNCATE)')
    } catch (error) {
      if (isCorruption(error)) throw error
    }
    return removed
  } finally {
    closeQuietly(db)
  }
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

function emptyStats(file: string): CacheStats {
  const {dbBytes, walBytes} = diskSize(file)
  return {
    file,
    status: 'ok',
    problem: null,
    entries: 0,
    sizeBytes: dbBytes + walBytes,
    dbBytes,
    walBytes,
    hits: 0,
    misses: 0,
    hitRate: null,
    countersSince: null,
    oldestEntry: null,
    newestEntry: null,
    parserVersions: [],
    dialects: [],
    quarantined: quarantined(file),
  }
}

function quarantined(file: string): string[] {
  const prefix = `${basename(file)}.corrupt-`
  try {
    return readdirSync(dirname(file))
      .filter((name) => name.startsWith(prefix) && !/-(wal|shm)$/.test(name))
      .sort()
      .map((name) => join(dirname(file), name))
  } catch {
    return []
  }
}

interface Group {
  parserVersion: string
  dialect: string
  entries: number
  oldest: number
  newest: number
}

/** Entries per parser version (or dialect), most first. */
function tally(groups: Group[], by: 'parserVersion' | 'dialect'): [string, number][] {
  const totals = new Map<string, number>()
  for (const g of groups) totals.set(g[by], (totals.get(g[by]) ?? 0) + g.entries)
  return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
}

function clearFailed(file: string, error: unknown): LineageError {
  return new LineageError(
    'E_CACHE',
    `cannot clear the parse cache ${file}: ${errorMessage(error)}`,
    'If a watcher holds it busy, run the command again; otherwise check the file and folder permissions.',
  )
}
