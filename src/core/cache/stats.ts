/**
 * The statistics of the parse cache file that `cache stats` reports and `ParseCache.stats` returns: entries
 * by parser version and dialect, their age, the hit and miss counters and the size on disk, read from any
 * process while a running `watch` may have the file open. `cacheStats` never throws (a missing, corrupt or
 * unreadable file is a status in the result); `readCacheStats` throws what SQLite throws. The human lines for
 * these results are in src/ui/cache.ts.
 */
import {errorMessage} from '../errors.js'
import {corruptCopies} from './corrupt-copies.js'
import {
  closeQuietly,
  type Db,
  diskSize,
  fileIdentity,
  isCorruption,
  isLegacy,
  notOurs,
  openCacheDb,
  schemaState,
} from './db.js'
import type {CacheCheck} from './integrity.js'

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

export interface CacheStatsResult extends CacheStats {
  /** The integrity check, when --check asked for it and there was a file to check. */
  check: CacheCheck | null
}

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

/** The damaged copies moved aside next to the file, their paths only. */
function quarantined(file: string): string[] {
  return corruptCopies(file).map((c) => c.file)
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
