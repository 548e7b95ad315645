/**
 * The graph step of a batch (the Ingestor's): write its ops through the GraphSink, keep the failed ones in the
 * FailureSink (the failed-ingestion file) for `lineage retry-failed`, and mark older failed writes of the paths
 * written now as superseded there. Says which paths failed, and whether their failure was kept ('failed') or
 * not even that ('lost': the failed-ingestion file cannot be written, a /healthz problem until it can).
 * Throws nothing.
 */
import {errorMessage} from '../errors.js'
import type {GraphSink} from '../graph/connection.js'
import type {GraphOp} from '../graph/model.js'
import type {Logger} from '../logger.js'
import type {FailureSink} from './dead-letter.js'
import type {IngestStats} from './ingestor.js'
import type {LedgerRow} from './ledger.js'
import type {IngestObserver} from './observer.js'

export interface GraphStepDeps {
  logger: Logger
  graph: GraphSink | undefined
  failures: FailureSink
  observer?: IngestObserver
}

export class GraphStep {
  /** Why the last failed graph write could not be kept in the failed-ingestion file, until one can. */
  problem: string | undefined

  constructor(
    private readonly deps: GraphStepDeps,
    private readonly stats: IngestStats,
    private readonly now: () => number,
  ) {}

  /** Older failed writes of a path written now must never be replayed over it (see dead-letter.ts). */
  async markSuperseded(
    ops: GraphOp[],
    failedPaths: Map<string, 'failed' | 'lost'>,
    ledgerRows: Map<string, LedgerRow | undefined>,
  ): Promise<void> {
    if (!this.deps.graph) return
    try {
      const written = ops.filter((op) => !failedPaths.has(op.path))
      await this.deps.failures.markSuperseded(written, (path) => ledgerRows.get(path)?.graph === 'failed')
    } catch (error) {
      this.deps.logger.error(
        `cannot record superseded writes in ${this.deps.failures.location} (${errorMessage(error)}); ` +
          `"lineage retry-failed" may replay old lineage over newer writes`,
      )
    }
  }

  /** Write the ops; returns the paths whose write failed: 'failed' (in the failed file) or 'lost' (not even that). */
  async write(ops: GraphOp[], batched: boolean): Promise<Map<string, 'failed' | 'lost'>> {
    const outcome = new Map<string, 'failed' | 'lost'>()
    const graph = this.deps.graph
    if (ops.length === 0 || !graph) return outcome
    const started = this.now()
    const {failed, transactions} = await graph.apply(ops, {batched})
    this.stats.transactions += transactions
    this.stats.graphFailures += failed.length
    this.deps.observer?.graphWritten?.({
      seconds: (this.now() - started) / 1000,
      transactions,
      failures: failed.length,
    })
    if (failed.length === 0) {
      this.problem = undefined // nothing needs that file now; what it lost is ingested again
      return outcome
    }
    const where = this.deps.failures.location
    try {
      await this.deps.failures.append(failed)
      this.problem = undefined
      for (const f of failed) outcome.set(f.op.path, 'failed')
      this.deps.logger.error(
        `graph write failed for ${failed.length} file(s); kept in ${where} for "lineage retry-failed"`,
        {
          reason: failed[0]?.error,
          code: failed[0]?.code,
        },
      )
    } catch (error) {
      for (const f of failed) outcome.set(f.op.path, 'lost')
      this.problem = `failed-ingestion file ${where} cannot be written: ${errorMessage(error)}`
      this.deps.logger.error(
        `graph write failed and the failed-ingestion file cannot be written (${errorMessage(error)}); ` +
          `${failed.length} file(s) will be ingested again at the next start`,
      )
    }
    return outcome
  }
}
