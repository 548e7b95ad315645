/**
 * ParseCache: one thread's connection to the SQLite parse cache, which maps (content hash, parser version,
 * dialect, variant) to a file's lineage, so an unchanged file is never parsed twice.
 *
 * Owns the hit and miss counters (kept in memory, written to the file about once a second and on
 * flush/close) and the entries' checksums: every entry read is checked against the checksum written with it,
 * and one that fails (its payload was changed after it was written) is a miss, is deleted, is logged with the
 * file's path and is signalled, so the file is parsed again and the re-parse stores a good entry. The
 * connection itself, one per thread (every worker opens its own), and its recovery from a damaged, removed
 * or replaced file are CacheFile's (cache-file.ts).
 *
 * Throws: only `ParseCache.open`, a LineageError E_CACHE when no usable cache can be opened (folder not
 * writable, a file that is not a parse cache). After that, get, put, putMany, flush, stats and close never
 * throw: a failure is logged once per kind and degrades to a miss. Uses no main-thread-only API.
 */
import {errorMessage} from '../errors.js'
import type {FileLineage} from '../types.js'
import {type Logger, silentLogger} from '../logger.js'
import {CacheFile, type CacheEvents, INTERVAL_MS} from './cache-file.js'
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

import type {Connection, Row, StoredEntry} from './db.js'

export type {CachedLineage, CacheEntry, CacheKey} from './entry.js'
export type {CacheEvents} from './cache-file.js'

export interface ParseCacheOptions {
  logger?: Logger
  /** Times entries and paces the once-a-second checks and counter writes (tests move it forward). */
  clock?: () => Date
  events?: CacheEvents
}

export class ParseCache {
  readonly file: string
  private readonly store: CacheFile
  private closed = false
  private hits = 0
  private misses = 0
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  private readonly logger: Logger
  private readonly clock: () => Date
  private readonly events: CacheEvents

  private constructor(file: string, options: ParseCacheOptions) {
    this.file = file
    this.logger = options.logger ?? silentLogger
    this.clock = options.clock ?? (() => new Date())
    this.events = options.events ?? {}
    this.store = new CacheFile(file, this.logger, this.clock, this.events)
  }

  /** Open (creating it and its folder if needed) the cache at `file`; a damaged file is replaced by a fresh one. */
  static open(file: string, options: ParseCacheOptions = {}): ParseCache {
    const cache = new ParseCache(file, options)
    cache.store.connect(true)
    return cache
  }

  /**
   * The lineage stored under `key`, without its path; counts a hit or a miss. `path`, the file it is looked
   * up for, only names it in the log when its entry fails the checksum.
   */
  get(key: CacheKey, path?: string): CachedLineage | undefined {
    if (this.closed) return undefined
    this.store.maintain()
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
    this.store.maintain()
    const conn = this.store.connection
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
      this.store.fail('put', error)
    }
  }

  /** Write the pending hit and miss counts now. */
  flush(): void {
    if (this.closed) return
    this.store.maintain()
    this.flushCounters()
  }

  /** What `cache stats` reports, including this connection's pending counts. */
  stats(): CacheStats {
    this.flush()
    const conn = this.store.connection
    if (conn) {
      try {
        return readCacheStats(conn.db, this.file)
      } catch (error) {
        this.store.fail('stats', error)
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
    this.store.close()
  }

  private lookup(key: CacheKey, path: string | undefined): CachedLineage | undefined {
    const conn = this.store.connection
    if (!conn) return undefined
    const keyBytes = cacheKeyBytes(key)
    let stored: StoredEntry | undefined
    try {
      stored = conn.select.get(keyBytes)
    } catch (error) {
      this.store.fail('get', error)
      return undefined
    }
    if (stored === undefined) return undefined
    if (!checksumMatches(keyBytes, stored.bytes, stored.checksum)) {
      this.dropBadEntry(conn, keyBytes, stored.bytes, key, path)
      return undefined
    }
    const lineage = parseStored(stored.bytes.toString('utf8'))
    if (!lineage)
      this.store.reportOnce('get:bad-entry', `parse cache ${this.file} holds an entry that is not lineage JSON`)
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
      this.store.fail('drop', error)
    }
    const what = path ?? `content ${key.contentHash}`
    this.logger.warn(
      `parse cache ${this.file}: the entry for ${what} fails its checksum (its stored lineage was changed); dropped it, the file is parsed again`,
    )
    try {
      this.events.onBadEntry?.({file: this.file, path, contentHash: key.contentHash})
    } catch (error) {
      this.store.reportOnce('onBadEntry', `parse cache onBadEntry handler failed: ${errorMessage(error)}`)
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
    const conn = this.store.connection
    if (!conn || (this.hits === 0 && this.misses === 0)) return
    try {
      conn.addCounters(this.hits, this.misses)
      this.hits = 0
      this.misses = 0
    } catch (error) {
      this.store.fail('flush', error) // the counts stay pending for the next flush
    }
  }
}
