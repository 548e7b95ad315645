/**
 * The ingestion service that `lineage watch` runs in-process: wiring only. It composes the settings with live
 * operator overrides (FlagWatcher), the start-up reconcile (reconciler), the folder watcher, the batcher, the
 * ingestor with its parsers (worker pool or main thread), parse cache, graph connection and failed-ingestion
 * file, the metrics endpoint, and the heartbeat the ops commands read.
 *
 * Started by `startService` (start.ts). Contract: it throws only for what makes running pointless (bad configuration, the watched folder
 * missing, the metrics port taken, Neo4j rejecting the credentials). Everything else (Neo4j down, a corrupt
 * cache, crashing workers, bad files) is logged, counted and survived. `stop()` finishes the batch in flight;
 * events not yet taken are left to the next start's reconcile, so nothing accepted is lost.
 */
import {join} from 'node:path'

import {LineageError} from '../errors.js'
import {GraphConnection} from '../graph/connection.js'
import type {ServiceLogger} from '../logger.js'
import {settingsNamespace} from '../ops/namespace.js'
import {FEATURES, type Settings} from '../ops/settings.js'
import type {FlagState} from '../ops/flag-state.js'
import {Batcher} from './batcher.js'
import {failedFileSink} from './dead-letter.js'
import {FlagWatcher} from './flag-watcher.js'
import {Heartbeat} from './heartbeat.js'
import {Ingestor} from './ingestor.js'
import {Ledger} from './ledger.js'
import {logObserver} from './log-observer.js'
import {Metrics} from './metrics.js'
import {combineObservers} from './observer.js'
import type {OpenLineageEmitter} from './openlineage-observer.js'
import {ParseResources} from './parsers.js'
import {reconcile} from './reconciler.js'
import type {RunSummary, ServiceHandle, ServiceOptions} from './service-types.js'
import {startBackground} from './background.js'
import {FolderGuard} from './folder-guard.js'
import {batching, startupLines} from './startup.js'

export type {RunSummary, ServiceHandle, ServiceOptions} from './service-types.js'

export class Service implements ServiceHandle {
  metricsPort: number | undefined
  reconciled = 0
  done!: Promise<RunSummary>
  private readonly ledger: Ledger
  private readonly batcher: Batcher
  private readonly ingestor: Ingestor
  private readonly graph: GraphConnection | undefined
  private readonly heartbeat: Heartbeat
  private readonly parsing: ParseResources
  private watcher: {close: () => Promise<void>} | undefined
  private stopping = false
  private stopped: Promise<RunSummary> | undefined
  private readonly started = performance.now()
  private lastBatchAt: string | null = null
  /** A failure that stopped the service (the watch limit), reported on /healthz while it stops. */
  private fatal: LineageError | undefined
  private stopBackground: (() => void) | undefined
  private folder: FolderGuard | undefined
  private held: string | undefined // why the last reconcile held retractions back (a mass retraction)

  constructor(
    private readonly options: ServiceOptions,
    private readonly flags: FlagWatcher,
    private readonly logger: ServiceLogger,
    private readonly metrics: Metrics,
    private readonly openLineage?: OpenLineageEmitter,
  ) {
    const s = flags.settings
    this.ledger = Ledger.open(join(s.stateDir, 'ledger.sqlite'), logger)
    this.batcher = new Batcher(batching(s))
    this.parsing = new ParseResources(() => this.flags.settings, logger, metrics)
    this.graph =
      s.neo4j &&
      new GraphConnection(s.neo4j, {
        logger,
        namespace: settingsNamespace(s),
        failedFile: s.failedFile,
        hungMs: options.graphHungMs,
      })
    this.ingestor = new Ingestor(s, {
      logger,
      ledger: this.ledger,
      inline: this.parsing.inline,
      pool: () => this.parsing.pool(),
      graph: this.graph,
      failures: failedFileSink(s.failedFile, logger),
      observer: combineObservers(metrics.observer(), logObserver(logger), openLineage?.observer(), options.observer),
    })
    this.heartbeat = new Heartbeat(
      {
        settings: () => this.flags.settings,
        revision: () => this.flags.state.revision,
        stopping: () => this.stopping,
        queueSize: () => this.queueSize(),
        problems: () =>
          [
            this.graph?.problem,
            this.folder?.problem,
            ...this.ingestor.problems,
            this.openLineage?.problem,
            this.held,
            this.fatal?.message,
          ].filter((p) => p !== undefined),
        lastBatchAt: () => this.lastBatchAt,
        filesProcessed: () => this.stats.files,
        metricsPort: () => this.metricsPort,
      },
      logger,
      (health, backlog) => {
        metrics.workers(this.parsing.running)
        metrics.queueSize(health.queueSize)
        metrics.backlog(backlog)
      },
    )
    metrics.health = () => this.heartbeat.health()
    metrics.setEnabled(s.features.metrics)
    metrics.setFlags(s.features, flags.state.revision)
  }

  get settings(): Settings {
    return this.flags.settings
  }

  get stats() {
    return this.ingestor.stats
  }

  async start(): Promise<this> {
    const s = this.settings
    // Announce ourselves before anything answers on the network, so ops commands find the heartbeat.
    this.heartbeat.beat()
    if (this.options.serveMetrics !== false) {
      this.metricsPort = await this.metrics.listen(s.metrics.port, s.metrics.host)
    }
    await this.graph?.open()
    for (const line of startupLines(s, this.metricsPort)) this.logger.info(line)
    if (!this.options.once) {
      this.watcher = this.folder = await FolderGuard.start(
        {
          rawDir: s.rawDir,
          extensions: s.extensions,
          poll: this.options.poll,
          settleMs: this.options.settleMs,
          logger: this.logger,
          onEvent: (op, rel) => {
            this.batcher.push(op, rel)
          },
          onError: (error) => {
            this.logger.error(`${error.message}. ${error.hint ?? ''}`)
            this.fatal = error
            void this.stop()
          },
        },
        () => this.reconcile(false, true),
      )
    }
    this.reconciled = this.reconcile(this.options.reingest)
    if (this.options.once) this.batcher.close()
    this.flags.start(
      this.options.flagPollMs ?? 500,
      (next, state, before) => {
        this.apply(next, state, before)
      },
      this.logger,
    )
    this.heartbeat.start()
    // Failed graph writes after an outage, outputs a full disk refused, parses cut short: without a restart.
    if (!this.options.once) {
      this.stopBackground = startBackground({
        graph: this.graph,
        ledger: this.ledger,
        settings: () => this.settings,
        stopping: () => this.stopping,
        idle: () => this.queueSize() + this.stats.inFlight === 0,
        reconcile: () => this.reconcile(false),
        due: () => this.ingestor.due(),
        queue: (rel) => {
          this.batcher.push('upsert', rel)
        },
        report: (pending, exhausted) => {
          this.metrics.incomplete(pending, exhausted)
        },
        logger: this.logger,
      })
    }
    this.done = this.loop()
    return this
  }

  /** `afresh`: the events queued so far (an old watcher's, its files seen "deleted") are dropped first. */
  private reconcile(reingest: boolean, afresh = false): number {
    if (afresh) this.batcher.drain()
    const s = this.settings
    const share = this.options.allowMassRetract === true ? undefined : s.massRetractShare
    const input = {...s, reingest, ledger: this.ledger, logger: this.logger, maxRetractShare: share}
    this.held = undefined
    return reconcile({...input, onHeld: (held) => (this.held = held)}, (op, rel) => {
      // Asked to ingest again: a file whose content the ledger knows is parsed and written all the same (its
      // lineage may differ now: new defaults from .lineage.json or the settings, a new extractor).
      if (reingest && op === 'upsert') this.ingestor.reparse(rel)
      this.batcher.push(op, rel)
    })
  }

  private async loop(): Promise<RunSummary> {
    for (;;) {
      const batch = await this.batcher.next()
      if (batch.length === 0) break
      // The folder gone or swapped: its files only look deleted. The reconcile on its return finds them.
      if (this.folder?.intact() === false) continue
      try {
        await this.ingestor.process(batch)
      } catch (error) {
        this.ingestor.batchErrors.record(
          batch.map((e) => e.relPath),
          error,
        )
      }
      this.lastBatchAt = new Date().toISOString()
      this.metrics.queueSize(this.queueSize())
    }
    // With FEATURE_PARALLEL the last batch's graph write may still be running: let it land first.
    await this.ingestor.drain()
    return this.shutdown()
  }

  queueSize(): number {
    return this.batcher.size + this.parsing.pending
  }

  reopenLog(): void {
    this.logger.reopen()
  }

  /** Apply a changed operator override without a restart. */
  private apply(next: Settings, state: FlagState, before: Settings): void {
    const changed = FEATURES.filter((f) => before.features[f] !== next.features[f])
    this.batcher.configure(batching(next))
    this.ingestor.reconfigure(next)
    this.metrics.setEnabled(next.features.metrics)
    this.metrics.setFlags(next.features, state.revision)
    if (!next.features.parallel) this.parsing.dropPool()
    else if (next.workers !== before.workers) this.parsing.pool()
    const desc = changed.map((f) => `${f} ${next.features[f] ? 'on' : 'off'}`).join(', ')
    this.logger.info(`flag state revision ${state.revision} applied${desc ? `: ${desc}` : ''}`)
    this.heartbeat.beat()
  }

  /** Stop taking events, finish the batch in flight, close everything. */
  stop(): Promise<RunSummary> {
    if (!this.stopping) {
      this.stopping = true
      const dropped = this.batcher.drain().length
      if (dropped > 0) this.logger.info(`stopping: ${dropped} queued event(s) left for the next start's reconcile`)
      this.batcher.close()
    }
    return this.done
  }

  /** Close everything, last the log (so what a failed start logged stays in the file). */
  async abort(): Promise<void> {
    this.stopping = true
    this.stopBackground?.()
    this.flags.stop()
    await this.watcher?.close()
    await this.parsing.close()
    await this.openLineage?.close()
    await this.graph?.close()
    await this.metrics.close()
    this.ledger.close()
    this.heartbeat.stop()
    await this.logger.close()
  }

  private shutdown(): Promise<RunSummary> {
    this.stopped ??= (async () => {
      await this.abort()
      const {files, statements, failed, unchanged, removed, graphFailures} = this.stats
      const seconds = (performance.now() - this.started) / 1000
      const {count: batchErrors, first: firstBatchError} = this.ingestor.batchErrors
      return {
        ...{files, statements, failed, unchanged, removed, graphFailures},
        batchErrors,
        firstBatchError,
        ignoredFolderSettings: this.ingestor.ignoredFolderSettings,
        seconds,
        stats: this.stats,
      }
    })()
    return this.stopped
  }
}
