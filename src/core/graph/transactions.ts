/**
 * How lineage talks to Neo4j: write transactions through `session.executeWrite`, reads through
 * `driver.executeQuery` routed to READ, each reporting to the one GraphHealth. Owns the retry policy (the
 * driver's), the fail-fast window, the attempt counters of WriterStats, and the slicing of `$rows` into
 * UNWIND statements of bounded size.
 *
 * Retries are the driver's: it runs the work function again after a transient error (a deadlock under
 * parallel MERGE is Neo.TransientError.Transaction.DeadlockDetected) or a connectivity error
 * (ServiceUnavailable, SessionExpired), waiting 1 s, then 2 s, 4 s... (±20 %) while less than
 * `maxTransactionRetryTime` has passed since the first failure. DEFAULT_MAX_RETRY_TIME_MS = 2 s makes that
 * three attempts when failures come at once (a refused or reset connection: measured 3.1-3.3 s in all, against
 * 0.3 s for the hand-written 3 attempts 100 ms and 200 ms apart this replaces), so a batch still fails within a
 * few seconds in an outage, while a blip under a second is ridden out. A failure that comes slowly is tried
 * less: a connection timeout (5 s) twice, and a pool that cannot hand out a connection in time
 * (acquisition timeout, no code) is not retried by the driver at all. Everything else (a ClientError such as
 * a key over Neo4j's index limit) fails at once.
 *
 * Health: before a write, `failFast(breakerMs)` gives a reason to fail at once (Neo4jUnavailable) while Neo4j
 * went away less than `breakerMs` ago, sparing every batch the driver's retries and timeouts; a connectivity
 * failure marks it down (with the redacted reason), a committed write or a successful read marks it up.
 * Throws what the driver throws, or Neo4jUnavailable; callers turn both into WriteFailures.
 */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags (SessionConfig, QueryConfig) as classes, yet documents and accepts
   plain objects for them. */
import type {Driver, ManagedTransaction} from 'neo4j-driver'

import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import type {GraphHealth} from './health.js'
import {isConnectivity, Neo4jUnavailable} from './neo4j-errors.js'
import type {WriterStats} from './types.js'

export const DEFAULT_MAX_RETRY_TIME_MS = 2000
export const DEFAULT_BREAKER_MS = 5000
export const DEFAULT_ROWS_PER_QUERY = 2_500

export type Row = Record<string, unknown>

export interface TransactionsOptions {
  logger: Logger
  /** Writes fail at once for this long after a connectivity failure (ms). */
  breakerMs: number
  /** Rows per UNWIND statement. */
  rowsPerQuery: number
  /** Takes the credentials out of a reason before it is kept or logged. */
  redact: (text: string) => string
}

export class Transactions {
  constructor(
    private readonly driver: Driver,
    /** The database when one is configured (the server default otherwise). */
    private readonly db: {database?: string},
    private readonly health: GraphHealth,
    private readonly stats: WriterStats,
    private readonly options: TransactionsOptions,
  ) {}

  /** One write transaction, retried by the driver; every attempt that runs counts in `stats`. */
  async write(work: (tx: ManagedTransaction) => Promise<void>): Promise<void> {
    const reason = this.health.failFast(this.options.breakerMs)
    if (reason !== undefined) throw new Neo4jUnavailable(reason)
    const session = this.driver.session({...this.db, defaultAccessMode: 'WRITE'})
    let attempt = 0
    try {
      await session.executeWrite(async (tx) => {
        attempt++
        this.stats.transactions++
        if (attempt > 1) {
          this.stats.retries++
          this.options.logger.debug(`Neo4j write transaction: retry ${attempt - 1} by the driver`)
        }
        await work(tx)
      })
    } catch (error) {
      this.failed(error)
      throw error
    } finally {
      await session.close().catch(() => undefined)
    }
    this.succeeded()
  }

  /** One read query, retried by the driver like a write; the records as plain objects. */
  async read(cypher: string, params: Row = {}): Promise<Row[]> {
    try {
      const {records} = await this.driver.executeQuery(cypher, params, {...this.db, routing: 'READ'})
      this.succeeded()
      return records.map((r) => r.toObject())
    } catch (error) {
      this.failed(error)
      throw error
    }
  }

  /**
   * One read transaction, not retried: a probe answers now or fails now (the driver's acquisition timeout when
   * no connection can be had). Neo4j ends the query after `timeoutMs`.
   */
  async probe(cypher: string, timeoutMs: number): Promise<void> {
    const session = this.driver.session({...this.db, defaultAccessMode: 'READ'})
    try {
      const tx = await session.beginTransaction({timeout: timeoutMs})
      await tx.run(cypher)
      await tx.commit()
    } catch (error) {
      this.failed(error)
      throw error
    } finally {
      await session.close().catch(() => undefined)
    }
    this.succeeded()
  }

  /**
   * Run an UNWIND query over `rows`, in slices of `rowsPerQuery`, with `params` beside `$rows`; the result
   * rows as plain objects.
   */
  async unwind(tx: ManagedTransaction, cypher: string, rows: readonly unknown[], params: Row = {}): Promise<Row[]> {
    const out: Row[] = []
    const size = this.options.rowsPerQuery
    for (let i = 0; i < rows.length; i += size) {
      const {records} = await tx.run(cypher, {...params, rows: rows.slice(i, i + size)})
      for (const r of records) out.push(r.toObject())
    }
    return out
  }

  private succeeded(): void {
    if (this.health.markUp()) this.options.logger.info('Neo4j answers again')
  }

  private failed(error: unknown): void {
    // A fail-fast refusal is no news about Neo4j; counting it as a failure would keep the window open forever.
    if (error instanceof Neo4jUnavailable || !isConnectivity(error)) return
    const reason = this.options.redact(errorMessage(error))
    if (this.health.markDown(reason)) {
      this.options.logger.warn(`Neo4j unreachable (${reason}): writes fail at once for ${this.options.breakerMs} ms`)
    }
  }
}
