/**
 * CacheFile: one thread's connection to the parse cache's SQLite file, kept usable whatever happens to the
 * file. A damaged file (SQLITE_CORRUPT, SQLITE_NOTADB, or a header overwritten under an open handle) is moved
 * aside as `<file>.corrupt-<UTC timestamp>` and a fresh cache started; a file removed or replaced by another
 * process (`cache clear`) is noticed by its inode, checked at most about once a second, and reopened. A failure
 * is logged once per kind. ParseCache (parse-cache.ts) reads and writes entries through it.
 *
 * Throws: only `connect(true)`, a LineageError E_CACHE when no usable cache can be opened (folder not
 * writable, a file that is not a parse cache). Everything else degrades to no connection (every lookup a
 * miss) and is logged. Uses no main-thread-only API.
 */
import {errorMessage, isLineageError, LineageError} from '../errors.js'
import type {Logger} from '../logger.js'
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
  sameIdentity,
} from './db.js'

export interface CacheEvents {
  /** The file was damaged; `movedTo` is where it went, or null when it had to be removed instead. */
  onCorrupt?(info: {file: string; movedTo: string | null; reason: string}): void
  /** An entry failed its checksum and was dropped; `path` is the file it was looked up for, when given. */
  onBadEntry?(info: {file: string; path: string | undefined; contentHash: string}): void
}

/** How often the file's identity and header are checked, and how long counters wait before being written. */
export const INTERVAL_MS = 1000

export class CacheFile {
  private conn: Connection | undefined
  private lastCheck: number
  private readonly reported = new Set<string>()

  constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly clock: () => Date,
    private readonly events: CacheEvents,
  ) {
    this.lastCheck = this.clock().getTime()
  }

  /** The open connection, or undefined while the file cannot be used (every lookup is then a miss). */
  get connection(): Connection | undefined {
    return this.conn
  }

  /** Close the connection; a later `maintain` opens it again. */
  close(): void {
    closeQuietly(this.conn?.db)
    this.conn = undefined
  }

  /** Open or reopen; a damaged file is moved aside once and a fresh one opened. */
  connect(atOpen: boolean): void {
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
  maintain(): void {
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

  /** A failed operation: a damaged file is recovered, anything else logged once per kind. */
  fail(operation: string, error: unknown): void {
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

  /** Log a failure the first time its kind occurs. */
  reportOnce(kind: string, message: string): void {
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
