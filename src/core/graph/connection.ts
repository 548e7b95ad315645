/**
 * GraphConnection: the service's link to Neo4j, and the graph sink the ingestor writes through. It owns the
 * one GraphHealth that says whether Neo4j is down (the writer reports to the same object), connects at start,
 * reconnects at most every `reconnectMs` while Neo4j is away, and fails writes it cannot attempt with
 * E_NEO4J_UNAVAILABLE and the reason, so the ingestor records them in the failed-ingestion file.
 *
 * `open` throws LineageError E_CONFIG when Neo4j rejects the credentials or the database (running on would
 * only fill the failed-ingestion file); an unreachable Neo4j at start is survived, logged once, and retried.
 * `apply` never throws for Neo4j's sake. neo4j-driver loads with the writer, on the first connection attempt.
 */
import {errorMessage, isLineageError} from '../errors.js'
import type {Logger} from '../logger.js'
import {GraphHealth} from './health.js'
import type {GraphOp} from './model.js'
import {type GraphFailure, type GraphWriter, type Neo4jConnection, safeUri} from './writer.js'

/** Where the ingestor sends a batch's graph ops: Neo4j through a GraphConnection, or a stand-in in tests. */
export interface GraphSink {
  apply(ops: GraphOp[], options: {batched: boolean}): Promise<{failed: GraphFailure[]; transactions: number}>
}

export interface GraphConnectionOptions {
  logger: Logger
  /** Named in the log line that says where failed writes go meanwhile. */
  failedFile: string
  /** Least time between two connection attempts while Neo4j is down (ms). */
  reconnectMs?: number
  now?: () => number
}

export class GraphConnection implements GraphSink {
  readonly health: GraphHealth
  private writer: GraphWriter | undefined
  private lastAttempt = Number.NEGATIVE_INFINITY
  /** Why the last batch's writes failed for a reason other than connectivity, until one succeeds. */
  private lastWriteFailure: string | undefined
  private readonly now: () => number

  constructor(
    private readonly conn: Neo4jConnection,
    private readonly options: GraphConnectionOptions,
  ) {
    this.now = options.now ?? (() => Date.now())
    this.health = new GraphHealth(this.now)
  }

  /** Connect at start: credentials or a database Neo4j rejects throw (E_CONFIG); unreachable is survived. */
  async open(): Promise<void> {
    await this.connect(true)
  }

  async apply(ops: GraphOp[], options: {batched: boolean}): Promise<{failed: GraphFailure[]; transactions: number}> {
    const writer = await this.connect(false)
    if (!writer) {
      const reason = this.health.downReason ?? 'Neo4j is unreachable'
      return {failed: ops.map((op) => ({op, code: 'E_NEO4J_UNAVAILABLE', error: reason})), transactions: 0}
    }
    const result = await writer.apply(ops, options)
    this.lastWriteFailure = result.failed[0]?.error
    return result
  }

  /** What is wrong with the graph now, for /healthz; undefined when nothing is. */
  get problem(): string | undefined {
    const down = this.health.downReason
    if (down !== undefined) return `Neo4j unreachable: ${down}`
    return this.lastWriteFailure === undefined ? undefined : `Neo4j: graph writes failing: ${this.lastWriteFailure}`
  }

  async close(): Promise<void> {
    await this.writer?.close()
    this.writer = undefined
  }

  /** The writer, connecting (again) when there is none and the last attempt is old enough (or `force`). */
  private async connect(force: boolean): Promise<GraphWriter | undefined> {
    if (this.writer) return this.writer
    if (!force && this.now() - this.lastAttempt < (this.options.reconnectMs ?? 5000)) return undefined
    this.lastAttempt = this.now()
    try {
      const {GraphWriter} = await import('./writer.js')
      this.writer = await GraphWriter.connect(this.conn, {logger: this.options.logger, health: this.health})
      if (this.health.markUp()) this.options.logger.info(`Neo4j is reachable again at ${safeUri(this.conn.uri)}`)
    } catch (error) {
      if (force && isLineageError(error) && error.code === 'E_CONFIG') throw error
      const reason = errorMessage(error)
      if (this.health.markDown(reason)) {
        this.options.logger.error(
          `Neo4j at ${safeUri(this.conn.uri)} is unreachable (${reason}); graph writes go to ${this.options.failedFile} until it is back`,
        )
      }
    }
    return this.writer
  }
}
