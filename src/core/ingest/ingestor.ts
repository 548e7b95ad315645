/**
 * The Ingestor processes one batch of file events end to end: parse (worker pool or main thread, through
 * the parse cache), graph write (one UNWIND transaction per batch, or one per entity), failed writes to the
 * failed-ingestion file, output files, the ledger, metrics and the log.
 *
 * Contract: `process` never throws for a file's sake and never drops one silently. Every file ends as
 * written, failed (counted, logged once with its reason, and for graph failures appended to the
 * failed-ingestion file), or unchanged. What cannot be recorded at all (the failed-ingestion file itself
 * unwritable) is left out of the ledger, so the next start ingests it again.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {appendFailures, markSuperseded} from './dead-letter.js'
import {errorMessage} from '../errors.js'
import {outputFileFor, removeOutput, runFileTask, writeOutputRecord} from './file-task.js'
import type {FileTask, FileTaskResult, ParsedResult} from './file-task.js'
import type {FileEvent} from './batcher.js'
import type {GraphFailure, GraphOp, GraphWriter} from '../graph/writer.js'
import type {Ledger, LedgerRow} from './ledger.js'
import type {Logger} from '../logger.js'
import type {Metrics} from './metrics.js'
import type {ParseCache} from '../cache/parse-cache.js'
import type {Feature} from '../ops/settings.js'
import type {WorkerPool} from './worker-pool.js'

export interface IngestConfig {
  features: Record<Feature, boolean>
  rawDir: string
  outDir: string
  failedFile: string
  dialect: string
  maxFileBytes: number
  parseTimeoutMs: number
}

export interface IngestStats {
  batches: number
  files: number
  statements: number
  failed: number
  unchanged: number
  removed: number
  cacheHits: number
  cacheMisses: number
  graphFailures: number
  transactions: number
  /** Files parsed on the main thread and in workers: shows whether the pool was used. */
  parsedInline: number
  parsedInPool: number
  maxConcurrentParses: number
  /** Event-to-written latency of every file, ms. */
  latenciesMs: number[]
  /** Events taken from the batcher and not yet recorded (parsing or being written). */
  inFlight: number
  /** When the last batch was recorded (the ingestor's clock, ms; 0 before the first). */
  lastBatchAt: number
}

export interface IngestDeps {
  logger: Logger
  ledger: Ledger
  metrics: () => Metrics | undefined
  /** The main thread's cache connection (sequential mode). */
  cache: () => ParseCache | undefined
  pool: () => WorkerPool | undefined
  graph: () => Promise<GraphWriter | undefined>
  /** Why the graph is unavailable, when configured but unreachable. */
  graphDownReason: () => string | undefined
  graphConfigured: boolean
  now?: () => number
}

export function emptyStats(): IngestStats {
  return {
    batches: 0,
    files: 0,
    statements: 0,
    failed: 0,
    unchanged: 0,
    removed: 0,
    cacheHits: 0,
    cacheMisses: 0,
    graphFailures: 0,
    transactions: 0,
    parsedInline: 0,
    parsedInPool: 0,
    maxConcurrentParses: 0,
    latenciesMs: [],
    inFlight: 0,
    lastBatchAt: 0,
  }
}

/** A parsed batch waiting for its graph write and ledger rows. */
interface Prepared {
  events: FileEvent[]
  started: number
  ops: GraphOp[]
  done: {event: FileEvent; row: LedgerRow | null}[]
  ledgerRows: Map<string, LedgerRow | undefined>
  /** Paths read while an earlier batch's write of them was in flight. */
  stale: string[]
}

export class Ingestor {
  readonly stats: IngestStats = emptyStats()
  /** Why the last graph write failed, until one succeeds again (for /healthz). */
  graphProblem: string | undefined
  /** The last failure logged per path, so a file that keeps failing the same way is logged once. */
  private readonly lastFailure = new Map<string, string>()
  private inFlightParses = 0
  private readonly now: () => number
  /** The graph write left running by `process` (FEATURE_PARALLEL), and the paths it writes. */
  private writing: {paths: ReadonlySet<string>; done: Promise<void>} | undefined

  constructor(
    private config: IngestConfig,
    private readonly deps: IngestDeps,
  ) {
    this.now = deps.now ?? (() => performance.now())
  }

  reconfigure(config: IngestConfig): void {
    this.config = config
  }

  /**
   * Parse a batch, then write it to the graph and record it in the ledger. With FEATURE_PARALLEL the write
   * is left running when this returns, so the pool parses the next batch meanwhile; writes still go one at a
   * time in batch order, each batch's ledger rows after its own write, and `drain()` waits for the last.
   */
  async process(events: FileEvent[]): Promise<void> {
    this.stats.inFlight += events.length
    let handedOver = false
    try {
      const prepared = await this.prepare(events)
      await this.writing?.done
      const release = (): void => {
        this.stats.inFlight -= events.length
      }
      handedOver = true
      if (!this.config.features.parallel) {
        await this.commit(prepared).finally(release)
        return
      }
      const done = this.commit(prepared)
        .catch((error: unknown) => {
          // What the service logs for a batch that throws: nothing of it reached the ledger, so the next
          // start ingests these files again.
          this.deps.logger.error(`batch of ${events.length} file(s) failed: ${errorMessage(error)}`, {
            stack: (error as Error).stack,
          })
        })
        .finally(release)
      const writing = {paths: new Set(events.map((e) => e.relPath)), done}
      this.writing = writing
      void done.then(() => {
        if (this.writing === writing) this.writing = undefined
      })
    } finally {
      if (!handedOver) this.stats.inFlight -= events.length
    }
  }

  /** Wait until the graph write left in flight by `process` has landed (before closing the writer). */
  async drain(): Promise<void> {
    await this.writing?.done
  }

  private async prepare(events: FileEvent[]): Promise<Prepared> {
    const started = this.now()
    // Paths whose previous batch is still being written: their ledger rows are about to change.
    const writing = this.writing?.paths ?? new Set<string>()
    const stale = events.map((e) => e.relPath).filter((p) => writing.has(p))
    const ledgerRows = new Map<string, LedgerRow | undefined>(
      events.map((e) => [e.relPath, this.deps.ledger.get(e.relPath)]),
    )
    const upserts = events.filter((e) => e.op === 'upsert')
    const results = await this.parseAll(upserts, ledgerRows, new Set(stale))
    const ops: GraphOp[] = []
    const done: {event: FileEvent; row: LedgerRow | null}[] = []
    const at = new Date().toISOString()
    const eventByPath = new Map(events.map((e) => [e.relPath, e]))

    for (const result of results) {
      const event = eventByPath.get(result.relPath)
      if (!event) continue
      if (result.kind === 'vanished') {
        event.op = 'remove'
        continue
      }
      if (result.kind === 'unreadable') {
        this.fileFailed(result.relPath, result.code, result.message)
        continue
      }
      if (result.kind === 'unchanged') {
        this.stats.unchanged++
        const row = ledgerRows.get(result.relPath)
        if (row) done.push({event, row: {...row, size: result.size, mtimeMs: result.mtimeMs, updatedAt: at}})
        continue
      }
      this.recordParsed(result)
      ops.push({
        op: 'upsert',
        path: result.relPath,
        contentHash: result.contentHash,
        dialect: this.config.dialect,
        ingestedAt: at,
        lineage: result.lineage,
      })
      done.push({
        event,
        row: {
          path: result.relPath,
          size: result.size,
          mtimeMs: result.mtimeMs,
          contentHash: result.contentHash,
          graph: 'written',
          updatedAt: at,
        },
      })
    }
    for (const event of events) {
      if (event.op !== 'remove') continue
      removeOutput(this.config.outDir, event.relPath)
      if (ledgerRows.get(event.relPath) || !existsSync(join(this.config.rawDir, event.relPath))) {
        ops.push({op: 'retract', path: event.relPath, at})
        done.push({event, row: null})
        this.stats.removed++
      }
    }

    return {events, started, ops, done, ledgerRows, stale}
  }

  private async commit(prepared: Prepared): Promise<void> {
    const {started, ops, done, ledgerRows} = prepared
    // Rows read while the previous write of the same paths was in flight: read them again now it landed.
    for (const path of prepared.stale) ledgerRows.set(path, this.deps.ledger.get(path))
    const failedPaths = await this.writeGraph(ops)
    await this.markSuperseded(ops, failedPaths, ledgerRows)
    const changes: {path: string; row: LedgerRow | null}[] = []
    for (const {event, row} of done) {
      const failure = failedPaths.get(event.relPath)
      if (failure === 'lost') continue
      changes.push({
        path: event.relPath,
        row: row && {...row, graph: failure ?? (this.deps.graphConfigured ? 'written' : 'off')},
      })
    }
    this.deps.ledger.apply(changes)
    const end = this.now()
    for (const {event} of done) {
      this.stats.latenciesMs.push(end - event.at)
    }
    this.stats.batches++
    this.stats.lastBatchAt = end
    this.deps.metrics()?.batch((end - started) / 1000)
  }

  private async parseAll(
    upserts: FileEvent[],
    ledgerRows: Map<string, LedgerRow | undefined>,
    stale: ReadonlySet<string>,
  ): Promise<FileTaskResult[]> {
    const useCache = this.config.features['parse-cache']
    const tasks: FileTask[] = upserts.map((e) => ({
      absPath: join(this.config.rawDir, e.relPath),
      relPath: e.relPath,
      dialect: this.config.dialect,
      maxBytes: this.config.maxFileBytes,
      // The soft deadline lets a long multi-statement file keep what it parsed before the hard limit hits.
      deadlineMs: Math.round(this.config.parseTimeoutMs * 0.8),
      // Unknown while the path's previous write is in flight: the content may equal the old row yet differ
      // from what that write puts in the graph, so it must be written again (a cache hit, not a parse).
      knownHash:
        !stale.has(e.relPath) && (ledgerRows.get(e.relPath)?.graph === 'written' || !this.deps.graphConfigured)
          ? ledgerRows.get(e.relPath)?.contentHash
          : undefined,
      outFile: outputFileFor(this.config.outDir, e.relPath),
    }))
    const pool = this.config.features.parallel ? this.deps.pool() : undefined
    if (pool) {
      return Promise.all(
        tasks.map(async (task) => {
          this.track(1)
          try {
            this.stats.parsedInPool++
            return await pool.run(task, useCache)
          } finally {
            this.track(-1)
          }
        }),
      )
    }
    const results: FileTaskResult[] = []
    for (const task of tasks) {
      this.track(1)
      this.stats.parsedInline++
      results.push(runFileTask(task, {cache: useCache ? this.deps.cache() : undefined}))
      this.track(-1)
    }
    return results
  }

  private track(delta: number): void {
    this.inFlightParses += delta
    this.stats.maxConcurrentParses = Math.max(this.stats.maxConcurrentParses, this.inFlightParses)
  }

  private recordParsed(result: ParsedResult): void {
    const lineage = result.lineage
    if (result.contentHash.startsWith('failed:')) {
      // The worker died or timed out, so nothing wrote the output: record why here.
      writeOutputRecord(outputFileFor(this.config.outDir, result.relPath), {
        contentHash: result.contentHash,
        size: result.size,
        lineage,
      })
    }
    this.stats.files++
    this.stats.statements += lineage.statements.length
    if (result.cacheHit) this.stats.cacheHits++
    else if (this.config.features['parse-cache']) this.stats.cacheMisses++
    if (this.config.features['parse-cache']) this.deps.metrics()?.cache(result.cacheHit)
    this.deps.metrics()?.fileProcessed(lineage.statements.length, undefined)
    if (lineage.status === 'failed') {
      const first = lineage.errors[0] ?? lineage.statements.find((s) => s.error)?.error
      this.fileFailed(result.relPath, first?.code ?? 'E_PARSE', first?.message ?? 'no statement could be parsed', false)
    } else if (lineage.status === 'partial') {
      const errors = lineage.statements.filter((s) => s.error)
      this.logOnce(result.relPath, `partial:${result.contentHash}`, () => {
        const first = errors[0]?.error
        this.deps.logger.warn(`${result.relPath}: ${errors.length} statement(s) failed, the others ingested`, {
          path: result.relPath,
          line: first?.line,
          reason: first?.message,
        })
      })
    } else {
      this.lastFailure.delete(result.relPath)
    }
  }

  private fileFailed(relPath: string, code: string, message: string, countProcessed = true): void {
    this.stats.failed++
    if (countProcessed) this.stats.files++
    if (countProcessed) this.deps.metrics()?.fileProcessed(0, undefined)
    this.deps.metrics()?.fileFailed(code)
    this.logOnce(relPath, `${code}:${message}`, () => {
      this.deps.logger.error(`${relPath}: ${message}`, {path: relPath, code})
    })
  }

  private logOnce(relPath: string, signature: string, log: () => void): void {
    if (this.lastFailure.get(relPath) === signature) return
    this.lastFailure.set(relPath, signature)
    log()
  }

  /** Older failed writes of a path written now must never be replayed over it (see dead-letter.ts). */
  private async markSuperseded(
    ops: GraphOp[],
    failedPaths: Map<string, 'failed' | 'lost'>,
    ledgerRows: Map<string, LedgerRow | undefined>,
  ): Promise<void> {
    if (!this.deps.graphConfigured) return
    try {
      const written = ops.filter((op) => !failedPaths.has(op.path))
      await markSuperseded(this.config.failedFile, written, (path) => ledgerRows.get(path)?.graph === 'failed')
    } catch (error) {
      this.deps.logger.error(
        `cannot record superseded writes in ${this.config.failedFile} (${errorMessage(error)}); ` +
          `"lineage retry-failed" may replay old lineage over newer writes`,
      )
    }
  }

  /** Write the ops; returns the paths whose write failed: 'failed' (in the failed file) or 'lost' (not even that). */
  private async writeGraph(ops: GraphOp[]): Promise<Map<string, 'failed' | 'lost'>> {
    const outcome = new Map<string, 'failed' | 'lost'>()
    if (ops.length === 0 || !this.deps.graphConfigured) return outcome
    const started = this.now()
    const writer = await this.deps.graph()
    let failures: GraphFailure[]
    let transactions = 0
    if (writer) {
      const result = await writer.apply(ops, {batched: this.config.features['neo4j-batch']})
      failures = result.failed
      transactions = result.transactions
    } else {
      const reason = this.deps.graphDownReason() ?? 'Neo4j is unreachable'
      failures = ops.map((op) => ({op, code: 'E_NEO4J_UNAVAILABLE', error: reason}))
    }
    this.stats.transactions += transactions
    this.stats.graphFailures += failures.length
    this.graphProblem =
      failures.length > 0 ? `graph writes failing: ${failures[0]?.error ?? 'unknown error'}` : undefined
    this.deps.metrics()?.graphWrite((this.now() - started) / 1000, transactions, failures.length)
    if (failures.length === 0) return outcome
    try {
      await appendFailures(this.config.failedFile, failures)
      for (const f of failures) outcome.set(f.op.path, 'failed')
      this.deps.logger.error(
        `graph write failed for ${failures.length} file(s); kept in ${this.config.failedFile} for "lineage retry-failed"`,
        {reason: failures[0]?.error, code: failures[0]?.code},
      )
    } catch (error) {
      for (const f of failures) outcome.set(f.op.path, 'lost')
      this.deps.logger.error(
        `graph write failed and the failed-ingestion file cannot be written (${errorMessage(error)}); ` +
          `${failures.length} file(s) will be ingested again at the next start`,
      )
    }
    return outcome
  }
}
