/**
 * ParseCache: one thread's connection to the SQLite parse cache, which maps (content hash, parser version,
 * dialect, variant) to a file's lineage, so an unchanged file is never parsed twice.
 *
 * Owns its better-sqlite3 connection (one per thread: every worker opens its own), the hit and miss
 * counters (kept in memory, written to the file about once a second and on flush/close), and recovery:
 * a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB, or a header overwritten under an open handle) is moved
 * aside as `<file>.corrupt-<UTC timestamp>` and a fresh cache started; a file removed or replaced by another
 * process (`cache clear`) is noticed by its inode, checked at most about once a second, and reopened.
 * Every entry read is checked against the checksum written with it: one that fails (its payload was changed
 * after it was written) is a miss, is deleted, is logged with the file's path and is signalled, so the file
 * is parsed again and the re-parse stores a good entry.
 *
 * Throws: only `ParseCache.open`, a LineageError E_CACHE when no usable cache can be opened (folder not
 * writable, a file that is not a parse cache). After that, get, put, putMany, flush, stats and close never
 * throw: a failure is logged once per kind and degrades to a miss. Uses no main-thread-only API.
 */
import {errorMessage, isLineageError, LineageError} from '../errors.js'
import type {FileLineage} from '../types.js'
import {type Logger, silentLogger} from '../logger.js'
import {cacheStats, readCacheStats, type CacheStats} from './stats.js'
import {
  type CachedLineage,
  type CacheEntry,
  type CacheKey,
  cacheKeyBytes,
  checksumMatches,
  parseStored,
  payloadChecksum,
} from './entry.js'

export type {CachedLineage, CacheEntry, CacheKey} from './entry.js'
import {
  closeQuietly,
  type Connection,
  errorCode,
  fileIdentity,
  type FileIdentity,
  hasSqliteHeader,
  isCorruption,
  moveAside,
  type MoveOutcome,
  notADatabase,
  openCacheDb,
  prepareConnection,
  type Row,
  sameIdentity,
  type StoredEntry,
} from './db.js'

export interface CacheEvents {
  /** The file was damaged; `movedTo` is where it went, or null when it had to be removed instead. */
  onCorrupt?(info: {file: string; movedTo: string | null; reason: string}): void
  /** An entry failed its checksum and was dropped; `path` is the file it was looked up for, when given. */
  onBadEntry?(info: {file: string; path: string | undefined; contentHash: string}): void
}

export interface ParseCacheOptions {
  logger?: Logger
  /** Times entries and paces the once-a-second checks and counter writes (tests move it forward). */
  clock?: () => Date
  events?: CacheEvents
}

/** How often the file's identity and header are checked, and how long counters wait before being written. */
const INTERVAL_MS = 1000

export class ParseCache {
  readonly file: string
  private conn: Connection | undefined
  private closed = false
  private hits = 0
  private misses = 0
  private lastCheck: number
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  private readonly reported = new Set<string>()
  private readonly logger: Logger
  private readonly clock: () => Date
  private readonly events: CacheEvents

  private constructor(file: string, options: ParseCacheOptions) {
    this.file = file
    this.logger = options.logger ?? silentLogger
    this.clock = options.clock ?? (() => new Date())
    this.events = options.events ?? {}
    this.lastCheck = this.clock().getTime()
  }

  /** Open (creating it and its folder if needed) the cache at `file`; a damaged file is replaced by a fresh one. */
  static open(file: string, options: ParseCacheOptions = {}): ParseCache {
    const cache = new ParseCache(file, options)
    cache.connect(true)
    return cache
  }

  /**
   * The lineage stored under `key`, without its path; counts a hit or a miss. `path`, the file it is looked
   * up for, only names it in the log when its entry fails the checksum.
   */
  get(key: CacheKey, path?: string): CachedLineage | undefined {
    if (this.closed) return undefined
    this.maintain()
    const found = this.lookup(key, path)
    if (found) this.hits++
    else this.misses++
    this.scheduleFlush()
    return found
  }

  /** Store a file's lineage (its path is not stored: the same content may live at several paths). */
  put(key: CacheKey, lineage: FileLineage): void {
    this.putMany([{key, lineage}])
  }

  /** Store several entries in one transaction (much faster than one put each); all or none are kept. */
  putMany(entries: readonly CacheEntry[]): void {
    if (this.closed || entries.length === 0) return
    this.maintain()
    const conn = this.conn
    if (!conn) return
    try {
      const now = this.clock().getTime()
      const rows = entries.map(({key, lineage}): Row => {
        // JSON.stringify leaves out a key whose value is undefined.
        const json = JSON.stringify({...lineage, path: undefined})
        const keyBytes = cacheKeyBytes(key)
        // SQLite stores TEXT bound from a string as its UTF-8 bytes: the bytes checksummed here.
        return [keyBytes, key.parserVersion, key.dialect, now, json, payloadChecksum(keyBytes, Buffer.from(json))]
      })
      if (rows.length === 1 && rows[0]) conn.upsert.run(...rows[0])
      else conn.putRows(rows)
    } catch (error) {
      this.fail('put', error)
    }
  }

  /** Write the pending hit and miss counts now. */
  flush(): void {
    if (this.closed) return
    this.maintain()
    this.flushCounters()
  }

  /** What `cache stats` reports, including this connection's pending counts. */
  stats(): CacheStats {
    this.flush()
    const conn = this.conn
    if (conn) {
      try {
        return readCacheStats(conn.db, this.file)
      } catch (error) {
        this.fail('stats', error)
      }
    }
    return cacheStats(this.file)
  }

  /** Write the pending counts and close the connection; later calls are no-ops (get misses). */
  close(): void {
    if (this.closed) return
    this.flushCounters()
    this.closed = true
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer)
    closeQuietly(this.conn?.db)
    this.conn = undefined
  }

  private lookup(key: CacheKey, path: string | undefined): CachedLineage | undefined {
    const conn = this.conn
    if (!conn) return undefined
    const keyBytes = cacheKeyBytes(key)
    let stored: StoredEntry | undefined
    try {
      stored = conn.select.get(keyBytes)
    } catch (error) {
      this.fail('get', error)
      return undefined
    }
    if (stored === undefined) return undefined
    if (!checksumMatches(keyBytes, stored.bytes, stored.checksum)) {
      this.dropBadEntry(conn, keyBytes, stored.bytes, key, path)
      return undefined
    }
    const lineage = parseStored(stored.bytes.toString('utf8'))
    if (!lineage) this.reportOnce('get:bad-entry', `parse cache ${this.file} holds an entry that is not lineage JSON`)
    return lineage
  }

  /**
   * An entry whose payload no longer matches its checksum: deleted (the re-parse that follows the miss would
   * overwrite it, but a re-parse that is not cached, a timeout, would leave it), logged and signalled. Each
   * bad entry is logged once, since it is gone after this.
   */
  private dropBadEntry(
    conn: Connection,
    keyBytes: Buffer,
    bytes: Buffer,
    key: CacheKey,
    path: string | undefined,
  ): void {
    try {
      conn.dropEntry.run(keyBytes, bytes)
    } catch (error) {
      this.fail('drop', error)
    }
    const what = path ?? `content ${key.contentHash}`
    this.logger.warn(
      `parse cache ${this.file}: the entry for ${what} fails its checksum (its stored lineage was changed); dropped it, the file is parsed again`,
    )
    try {
      this.events.onBadEntry?.({file: this.file, path, contentHash: key.contentHash})
    } catch (error) {
      this.reportOnce('onBadEntry', `parse cache onBadEntry handler failed: ${errorMessage(error)}`)
    }
  }

  /** Open or reopen; a damaged file is moved aside once and a fresh one opened. */
  private connect(atOpen: boolean): void {
    for (let attempt = 1; ; attempt++) {
      const before = fileIdentity(this.file)
      try {
        this.conn = prepareConnection(openCacheDb(this.file, {create: true, now: this.clock().getTime()}), this.file)
        return
      } catch (error) {
        if (attempt === 1 && isCorruption(error)) {
          this.quarantine(before, errorMessage(error))
          continue
        }
        if (atOpen) throw isLineageError(error) ? error : unavailable(this.file, error)
        this.reportOnce(
          `open:${errorCode(error)}`,
          `parse cache ${this.file} cannot be opened (${errorMessage(error)})`,
        )
        return
      }
    }
  }

  /** Once a second at most: reopen a file that was removed or replaced, recover one that was overwritten. */
  private maintain(): void {
    const now = this.clock().getTime()
    if (now - this.lastCheck < INTERVAL_MS) return
    this.lastCheck = now
    const conn = this.conn
    if (!conn) {
      this.connect(false)
      return
    }
    const current = fileIdentity(this.file)
    if (!sameIdentity(current, conn.identity)) {
      const what = current ? 'replaced' : 'removed'
      this.logger.info(`parse cache ${this.file} was ${what} by another process; reopening it`)
      this.conn = undefined
      closeQuietly(conn.db)
      this.connect(false)
    } else if (!hasSqliteHeader(this.file)) {
      this.recover(notADatabase().message)
    }
  }

  private fail(operation: string, error: unknown): void {
    if (isCorruption(error)) {
      this.recover(errorMessage(error))
      return
    }
    const message = `parse cache ${operation} failed on ${this.file} (${errorMessage(error)}); treated as a miss`
    this.reportOnce(`${operation}:${errorCode(error)}`, message)
  }

  /** Close the damaged connection, move the file aside, start afresh. */
  private recover(reason: string): void {
    const conn = this.conn
    this.conn = undefined
    closeQuietly(conn?.db)
    this.quarantine(conn?.identity, reason)
    this.connect(false)
  }

  private quarantine(expected: FileIdentity | undefined, reason: string): void {
    let outcome: MoveOutcome
    try {
      outcome = moveAside(this.file, expected, this.clock())
    } catch (error) {
      // Reported (and signalled) once, not at every reopen attempt; meanwhile every lookup is a miss.
      if (this.reported.has('quarantine')) return
      const message = `parse cache ${this.file} is damaged (${reason}) and can be neither moved nor removed (${errorMessage(error)}); running without a cache`
      this.reportOnce('quarantine', message)
      this.notifyCorrupt(null, reason)
      return
    }
    if (outcome.kind === 'replaced') {
      this.logger.info(`parse cache ${this.file} was damaged and has already been replaced; reopening it`)
      return
    }
    const movedTo = outcome.kind === 'moved' ? outcome.to : null
    const where = movedTo === null ? 'removed it' : `moved it to ${movedTo}`
    this.logger.warn(`parse cache ${this.file} was damaged (${reason}); ${where} and started an empty cache`)
    this.notifyCorrupt(movedTo, reason)
  }

  private notifyCorrupt(movedTo: string | null, reason: string): void {
    try {
      this.events.onCorrupt?.({file: this.file, movedTo, reason})
    } catch (error) {
      this.reportOnce('onCorrupt', `parse cache onCorrupt handler failed: ${errorMessage(error)}`)
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      if (!this.closed) this.flush()
    }, INTERVAL_MS)
    // Counting must never keep a process or worker alive.
    this.flushTimer.unref()
  }

  private flushCounters(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    const conn = this.conn
    if (!conn || (this.hits === 0 && this.misses === 0)) return
    try {
      conn.addCounters(this.hits, this.misses)
      this.hits = 0
      this.misses = 0
    } catch (error) {
      this.fail('flush', error) // the counts stay pending for the next flush
    }
  }

  private reportOnce(kind: string, message: string): void {
    if (this.reported.has(kind)) return
    this.reported.add(kind)
    this.logger.warn(`${message} (further failures of this kind are not logged)`)
  }
}

function unavailable(file: string, error: unknown): LineageError {
  return new LineageError(
    'E_CACHE',
    `parse cache ${file} cannot be opened: ${errorMessage(error)}`,
    'Make its folder writable, set LINEAGE_CACHE_FILE to another path, or turn the cache off with FEATURE_PARSE_CACHE=false.',
  )
}
