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
  /** The namespace the service writes in (ops/namespace.ts lineageNamespace). */
  namespace: string
  /** Named in the log line that says where failed writes go meanwhile. */
  failedFile: string
  /** Least time between two connection attempts while Neo4j is down (ms). */
  reconnectMs?: number
  /** A write with no answer for this long makes the graph degraded until it ends (ms, default WRITE_HUNG_MS). */
  hungMs?: number | undefined
  now?: () => number
}

/** How long a graph write may wait for Neo4j before /healthz says so (ms). */
export const WRITE_HUNG_MS = 30_000
/** How often a degraded graph is asked whether it answers again (ms). */
export const PROBE_INTERVAL_MS = 2000
/** How long a probe waits for Neo4j's answer before counting it as no answer (ms). */
export const PROBE_TIMEOUT_MS = 5000

export class GraphConnection implements GraphSink {
  readonly health: GraphHealth
  private writer: GraphWriter | undefined
  private lastAttempt = Number.NEGATIVE_INFINITY
  /** Why the last batch's writes failed for a reason other than connectivity, until one succeeds. */
  private lastWriteFailure: string | undefined
  /** When the write in flight started; undefined when none is. */
  private writingSince: number | undefined
  private probing = false
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
      const namespace = this.options.namespace
      return {failed: ops.map((op) => ({op, namespace, code: 'E_NEO4J_UNAVAILABLE', error: reason})), transactions: 0}
    }
    this.writingSince = this.now()
    try {
      const result = await writer.apply(ops, options)
      // Connectivity failures are the health's to tell (and the probe's to clear); others last until a write lands.
      this.lastWriteFailure = result.failed.find((f) => f.code !== 'E_NEO4J_UNAVAILABLE')?.error
      return result
    } finally {
      this.writingSince = undefined
    }
  }

  /** What is wrong with the graph now, for /healthz; undefined when nothing is. */
  get problem(): string | undefined {
    const problems: string[] = []
    const down = this.health.downReason
    if (down !== undefined) problems.push(`Neo4j unreachable: ${down}`)
    if (this.hung()) {
      const seconds = Math.round((this.now() - (this.writingSince ?? 0)) / 1000)
      problems.push(`${down === undefined ? 'Neo4j: ' : ''}a graph write has had no answer for ${seconds} s`)
    }
    if (down === undefined && this.lastWriteFailure !== undefined)
      problems.push(`Neo4j: graph writes failing: ${this.lastWriteFailure}`)
    return problems.length === 0 ? undefined : problems.join('; ')
  }

  private hung(): boolean {
    return this.writingSince !== undefined && this.now() - this.writingSince >= (this.options.hungMs ?? WRITE_HUNG_MS)
  }

  /**
   * While the graph is degraded (down, or a write hung), ask Neo4j every `intervalMs` whether it answers, so
   * that /healthz clears, and the failed writes are caught up (GraphHealth `onRecovered`), without waiting
   * for the next write; and so that a write hung on a black-holed Neo4j turns into "unreachable". Costs
   * nothing while the graph is fine. Returns the stop function.
   */
  startProbe(intervalMs = PROBE_INTERVAL_MS): () => void {
    const timer = setInterval(() => {
      void this.probeOnce()
    }, intervalMs)
    timer.unref()
    return () => {
      clearInterval(timer)
    }
  }

  /** One probe if the graph is degraded and none is in flight. Never throws. */
  async probeOnce(): Promise<void> {
    if (this.probing) return
    if (this.health.downReason === undefined && !this.hung()) return
    this.probing = true
    try {
      const writer = await this.connect(false)
      if (!writer) return
      let timer: NodeJS.Timeout | undefined
      const noAnswer = new Promise<'no answer'>((resolve) => {
        timer = setTimeout(() => {
          resolve('no answer')
        }, PROBE_TIMEOUT_MS + 1000)
      })
      // The ping reports to the health itself: up on an answer, down on a connectivity error.
      const answer = await Promise.race([writer.ping(PROBE_TIMEOUT_MS), noAnswer])
      clearTimeout(timer)
      const reason = `no answer within ${PROBE_TIMEOUT_MS / 1000} s`
      // Down already (the ping's own error, say): keep that reason rather than flip between two in the log.
      if (answer === 'no answer' && this.health.downReason === undefined && this.health.markDown(reason)) {
        this.options.logger.error(`Neo4j at ${safeUri(this.conn.uri)} does not answer (${reason})`)
      }
    } catch (error) {
      this.options.logger.debug(`Neo4j probe: ${errorMessage(error)}`)
    } finally {
      this.probing = false
    }
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
      this.writer = await GraphWriter.connect(this.conn, {
        logger: this.options.logger,
        namespace: this.options.namespace,
        health: this.health,
      })
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
