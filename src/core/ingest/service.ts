/**
 * The ingestion service that `lineage watch` runs in-process: settings with live operator overrides, the
 * start-up reconcile, the folder watcher, the batcher, the ingestor with its worker pool, parse cache and
 * graph writer, metrics and /healthz, and the heartbeat file the ops commands read.
 *
 * Contract: `startService` throws only for what makes running pointless (bad configuration, the watched
 * folder missing, the metrics port taken). Everything else (Neo4j down, a corrupt cache, crashing
 * workers, bad files) is logged, counted and survived. `stop()` finishes the batch in flight; events not
 * yet taken are left to the next start's reconcile, so nothing accepted is lost.
 */
import {existsSync, mkdirSync, statSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'

import {Batcher} from './batcher.js'
import {countFailures} from './dead-letter.js'
import {errorMessage, isLineageError, LineageError} from '../errors.js'
import {ExitCode} from '../exit-codes.js'
import {outputFileFor} from './file-task.js'
import {type FlagState, loadFlagState, overrideValues, stateFile} from '../ops/flag-state.js'
import type {GraphWriter} from '../graph/writer.js'
import {Ingestor, type IngestConfig, type IngestStats} from './ingestor.js'
import {Ledger} from './ledger.js'
import {type LogLevel, openLogger, type ServiceLogger} from '../logger.js'
import {type Health, Metrics} from './metrics.js'
import {ParseCache} from '../cache/parse-cache.js'
import {removeServiceReport, type ServiceReport, writeServiceReport} from '../ops/service-state.js'
import {FEATURES, loadSettings, resolveSettings, type Settings, type SettingsInput} from '../ops/settings.js'
import {scanFolder, scanOutputs, startWatcher} from './watcher.js'
import {WorkerPool} from './worker-pool.js'

export interface ServiceOptions {
  settings: SettingsInput
  /** Ingest the folder as it is, then stop (no watcher). */
  once: boolean
  poll: boolean
  settleMs: number
  /** Ignore the ledger: ingest every file again. */
  reingest: boolean
  logLevel: LogLevel
  /** Readable log lines (stderr in the CLI); the structured log goes to the configured log file. */
  stream?: NodeJS.WritableStream
  /** How often the override state is checked (ms). */
  flagPollMs?: number
}

export interface RunSummary {
  files: number
  statements: number
  failed: number
  unchanged: number
  removed: number
  graphFailures: number
  seconds: number
  stats: IngestStats
}

export interface ServiceHandle {
  readonly settings: Settings
  readonly stats: IngestStats
  /** The port metrics and /healthz listen on, or undefined when none. */
  readonly metricsPort: number | undefined
  /** Files the start-up reconcile queued. */
  readonly reconciled: number
  /** Resolves when the service has stopped (after --once finishes, or after stop()). */
  readonly done: Promise<RunSummary>
  /** Events waiting plus parses in flight. */
  queueSize(): number
  /** Reopen the log file at its path (SIGHUP after logrotate moved it). */
  reopenLog(): void
  stop(): Promise<RunSummary>
}

function ingestConfig(s: Settings): IngestConfig {
  return {
    features: s.features,
    rawDir: s.rawDir,
    outDir: s.outDir,
    failedFile: s.failedFile,
    dialect: s.dialect,
    maxFileBytes: s.maxFileBytes,
    parseTimeoutMs: s.parseTimeoutMs,
  }
}

/** Identity and version of a file: inode, size and mtime ('none' when it does not exist). */
function fileStamp(file: string): string {
  try {
    const st = statSync(file)
    return `${st.ino}:${st.size}:${st.mtimeMs}`
  } catch {
    return 'none'
  }
}

export async function startService(options: ServiceOptions): Promise<ServiceHandle> {
  // The state file's stamp is taken before it is read, so a change made while starting is applied, not missed.
  const stamp = fileStamp(stateFile(resolveSettings(options.settings).stateDir))
  const {settings, state} = loadSettings(options.settings)
  if (!existsSync(settings.rawDir) || !statSync(settings.rawDir).isDirectory()) {
    throw new LineageError(
      'E_CONFIG',
      `the watched folder ${settings.rawDir} does not exist`,
      'Create it, or pass the folder to watch: lineage watch RAW OUT',
    )
  }
  mkdirSync(settings.outDir, {recursive: true})
  const logger = await openLogger({
    level: options.logLevel,
    file: settings.logFile,
    ...(options.stream ? {stream: options.stream} : {}),
  })
  try {
    return await new Service(options, settings, state, logger, stamp).start()
  } catch (error) {
    await logger.close() // what the failed start logged stays in the file
    throw error
  }
}

class Service implements ServiceHandle {
  readonly stats: IngestStats
  metricsPort: number | undefined
  reconciled = 0
  done!: Promise<RunSummary>
  private readonly ledger: Ledger
  private readonly batcher: Batcher
  private readonly ingestor: Ingestor
  private metrics: Metrics | undefined
  private cache: ParseCache | undefined
  private pool: WorkerPool | undefined
  private writer: GraphWriter | undefined
  private graphDown: string | undefined
  private lastConnectAttempt = 0
  private watcher: {close: () => Promise<void>} | undefined
  private timers: NodeJS.Timeout[] = []
  private stopping = false
  private stopped: Promise<RunSummary> | undefined
  private readonly startedAt = new Date()
  private readonly started = performance.now()
  private lastBatchAt: string | null = null
  private backlog = 0
  private fatal: LineageError | undefined

  constructor(
    private readonly options: ServiceOptions,
    public settings: Settings,
    private state: FlagState,
    private readonly logger: ServiceLogger,
    private stateStamp: string,
  ) {
    this.ledger = Ledger.open(join(settings.stateDir, 'ledger.sqlite'), logger)
    this.batcher = new Batcher(this.batcherOptions(settings))
    this.ingestor = new Ingestor(ingestConfig(settings), {
      logger,
      ledger: this.ledger,
      metrics: () => this.metrics,
      cache: () => this.mainCache(),
      pool: () => this.workerPool(),
      graph: () => this.graph(),
      graphDownReason: () => this.graphDown,
      graphConfigured: settings.neo4j !== undefined,
    })
    this.stats = this.ingestor.stats
  }

  private batcherOptions(s: Settings): {enabled: boolean; batchSize: number; debounceMs: number} {
    return s.features.batching
      ? {enabled: true, batchSize: s.batchSize, debounceMs: s.debounceMs}
      : {enabled: false, batchSize: 1, debounceMs: 0}
  }

  async start(): Promise<this> {
    const s = this.settings
    // Announce ourselves before anything answers on the network, so ops commands find the heartbeat.
    this.heartbeat()
    await this.startMetrics()
    if (s.neo4j) await this.connectAtStart()
    else
      this.logger.info(
        'graph is off: NEO4J_URI is not set. Lineage goes to the output folder only; set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD) to write the graph.',
      )
    this.announce()
    if (!this.options.once) {
      this.watcher = await startWatcher({
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
      })
    }
    this.reconcile()
    if (this.options.once) this.batcher.close()
    this.timers.push(
      setInterval(() => {
        this.pollFlags()
      }, this.options.flagPollMs ?? 500),
      setInterval(() => {
        this.heartbeat()
      }, 1000),
      setInterval(() => {
        this.refreshBacklog()
      }, 5000),
    )
    for (const t of this.timers) t.unref()
    this.refreshBacklog()
    this.heartbeat()
    this.done = this.loop()
    return this
  }

  private announce(): void {
    const s = this.settings
    const on = FEATURES.filter((f) => s.features[f])
    this.logger.info(
      `lineage watch: ${s.rawDir} -> ${s.outDir}; features on: ${on.length > 0 ? on.join(', ') : 'none (baseline)'}; ` +
        `workers ${s.features.parallel ? s.workers : 1}, batch ${s.features.batching ? s.batchSize : 1}` +
        (this.metricsPort !== undefined ? `; metrics on http://${s.metrics.host}:${this.metricsPort}/metrics` : ''),
    )
  }

  private async startMetrics(): Promise<void> {
    const metrics = await Metrics.create(() => this.health())
    metrics.setEnabled(this.settings.features.metrics)
    metrics.setFlags(this.settings.features, this.state.revision)
    try {
      this.metricsPort = await metrics.listen(this.settings.metrics.port, this.settings.metrics.host)
    } catch (error) {
      this.ledger.close()
      throw new LineageError(
        'E_CONFIG',
        `cannot serve metrics on ${this.settings.metrics.host}:${this.settings.metrics.port}: ${errorMessage(error)}`,
        'Another service may hold the port; set METRICS_PORT to a free one.',
      )
    }
    this.metrics = metrics
  }

  private reconcile(): void {
    const s = this.settings
    const onDisk = scanFolder(s.rawDir, s.extensions, this.logger)
    const known = this.ledger.all()
    let queued = 0
    for (const [rel, st] of onDisk) {
      const row = known.get(rel)
      const stale =
        this.options.reingest ||
        row?.size !== st.size ||
        row.mtimeMs !== st.mtimeMs ||
        (row.graph === 'off' && s.neo4j !== undefined) ||
        !existsSync(outputFileFor(s.outDir, rel))
      if (stale) {
        this.batcher.push('upsert', rel)
        queued++
      }
    }
    for (const rel of known.keys()) {
      if (onDisk.has(rel)) continue
      this.batcher.push('remove', rel)
      queued++
    }
    // Written (output, maybe graph) by a run killed before its ledger rows landed, and deleted since.
    for (const rel of scanOutputs(s.outDir, this.logger)) {
      if (onDisk.has(rel) || known.has(rel)) continue
      this.batcher.push('remove', rel)
      queued++
    }
    this.reconciled = queued
    this.logger.info(`reconcile: ${onDisk.size} file(s) in the folder, ${queued} to ingest or retract`)
  }

  private async loop(): Promise<RunSummary> {
    for (;;) {
      const batch = await this.batcher.next()
      if (batch.length === 0) break
      try {
        await this.ingestor.process(batch)
      } catch (error) {
        // A bug, not a bad file: log it and carry on; the ledger does not have these files, so the next
        // start ingests them again.
        this.logger.error(`batch of ${batch.length} file(s) failed: ${errorMessage(error)}`, {
          stack: (error as Error).stack,
        })
      }
      this.lastBatchAt = new Date().toISOString()
      this.metrics?.queueSize(this.queueSize())
    }
    // With FEATURE_PARALLEL the last batch's graph write may still be running: let it land first.
    await this.ingestor.drain()
    return this.shutdown()
  }

  queueSize(): number {
    return this.batcher.size + (this.pool?.pending ?? 0)
  }

  reopenLog(): void {
    this.logger.reopen()
  }

  private mainCache(): ParseCache | undefined {
    if (!this.cache) {
      try {
        this.cache = ParseCache.open(this.settings.cacheFile, {
          logger: this.logger,
          events: {onCorrupt: () => this.metrics?.cacheCorrupt()},
        })
      } catch (error) {
        this.logger.warn(`parse cache unavailable, parsing without it: ${errorMessage(error)}`)
      }
    }
    return this.cache
  }

  private workerPool(): WorkerPool | undefined {
    const s = this.settings
    if (this.pool && this.pool.size !== s.workers) {
      const old = this.pool
      this.pool = undefined
      void old.close()
    }
    this.pool ??= new WorkerPool({
      size: s.workers,
      dialect: s.dialect,
      timeoutMs: s.parseTimeoutMs,
      workerMaxMb: s.workerMaxMb,
      cacheFile: s.cacheFile,
      logger: this.logger,
      onRestart: () => this.metrics?.workerRestart(),
      onCacheCorrupt: () => this.metrics?.cacheCorrupt(),
    })
    this.metrics?.workers(this.pool.size)
    return this.pool
  }

  /**
   * Neo4j down at start is survived (writes go to the failed-ingestion file until it is back); credentials or
   * a database it rejects are a configuration error (exit 78): running on would only fill that file.
   */
  private async connectAtStart(): Promise<void> {
    try {
      await this.graph(true)
    } catch (error) {
      await this.metrics?.close()
      this.ledger.close()
      removeServiceReport(this.settings.stateDir, process.pid)
      throw error
    }
  }

  /** The graph writer, connecting (again) when needed, at most every 5 s while Neo4j is down. */
  private async graph(force = false): Promise<GraphWriter | undefined> {
    const conn = this.settings.neo4j
    if (!conn) return undefined
    if (this.writer) return this.writer
    if (!force && Date.now() - this.lastConnectAttempt < 5000) return undefined
    this.lastConnectAttempt = Date.now()
    try {
      const {GraphWriter} = await import('../graph/writer.js')
      this.writer = await GraphWriter.connect(conn, {logger: this.logger})
      if (this.graphDown) this.logger.info(`Neo4j is reachable again at ${conn.uri}`)
      this.graphDown = undefined
    } catch (error) {
      if (force && isLineageError(error) && error.exit === ExitCode.CONFIG) throw error
      const reason = errorMessage(error)
      if (this.graphDown !== reason) {
        this.logger.error(
          `Neo4j at ${conn.uri} is unreachable (${reason}); graph writes go to ${this.settings.failedFile} until it is back`,
        )
      }
      this.graphDown = reason
    }
    return this.writer
  }

  /** Apply a changed operator override without a restart. */
  private pollFlags(): void {
    const stamp = fileStamp(stateFile(this.settings.stateDir))
    if (stamp === this.stateStamp) return
    this.stateStamp = stamp
    try {
      const state = loadFlagState(this.settings.stateDir)
      const next = resolveSettings({...this.options.settings, overrides: overrideValues(state)})
      this.applySettings(next, state)
    } catch (error) {
      this.logger.error(`flag state not applied, keeping the current flags: ${errorMessage(error)}`)
    }
  }

  private applySettings(next: Settings, state: FlagState): void {
    const before = this.settings
    const changed = FEATURES.filter((f) => before.features[f] !== next.features[f])
    this.settings = next
    this.state = state
    this.batcher.configure(this.batcherOptions(next))
    this.ingestor.reconfigure(ingestConfig(next))
    this.metrics?.setEnabled(next.features.metrics)
    this.metrics?.setFlags(next.features, state.revision)
    if (!next.features.parallel && this.pool) {
      // Drain: tasks already handed to the pool finish there, new ones run on the main thread.
      const old = this.pool
      this.pool = undefined
      void old.close()
    }
    const desc = changed.map((f) => `${f} ${next.features[f] ? 'on' : 'off'}`).join(', ')
    this.logger.info(`flag state revision ${state.revision} applied${desc ? `: ${desc}` : ''}`)
    this.heartbeat()
  }

  private refreshBacklog(): void {
    try {
      this.backlog = countFailures(this.settings.failedFile)
      this.metrics?.backlog(this.backlog)
    } catch {
      // unreadable backlog: verify reports it
    }
  }

  private health(): Health {
    const problems: string[] = []
    if (this.graphDown) problems.push(`Neo4j unreachable: ${this.graphDown}`)
    else if (this.ingestor.graphProblem) problems.push(`Neo4j: ${this.ingestor.graphProblem}`)
    if (this.fatal) problems.push(this.fatal.message)
    return {
      status: this.stopping ? 'stopping' : problems.length > 0 ? 'degraded' : 'ok',
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      lastBatchAt: this.lastBatchAt,
      queueSize: this.queueSize(),
      appliedRevision: this.state.revision,
      features: this.settings.features,
      graph: this.settings.neo4j ? 'on' : 'off',
      problems,
    }
  }

  private heartbeat(): void {
    const h = this.health()
    const s = this.settings
    const report: ServiceReport = {
      pid: process.pid,
      host: hostname(),
      startedAt: h.startedAt,
      heartbeatAt: new Date().toISOString(),
      status: h.status,
      appliedRevision: h.appliedRevision,
      features: h.features,
      workers: s.features.parallel ? s.workers : 1,
      metricsUrl: this.metricsPort === undefined ? null : `http://127.0.0.1:${this.metricsPort}/metrics`,
      rawDir: s.rawDir,
      outDir: s.outDir,
      graph: h.graph,
      problems: h.problems,
      queueSize: h.queueSize,
      filesProcessed: this.stats.files,
    }
    try {
      writeServiceReport(s.stateDir, report)
    } catch (error) {
      this.logger.debug(`heartbeat not written: ${errorMessage(error)}`)
    }
    this.metrics?.queueSize(h.queueSize)
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

  private shutdown(): Promise<RunSummary> {
    this.stopped ??= (async () => {
      this.stopping = true
      for (const t of this.timers) clearInterval(t)
      await this.watcher?.close()
      await this.pool?.close()
      this.cache?.close()
      await this.writer?.close()
      await this.metrics?.close()
      this.ledger.close()
      removeServiceReport(this.settings.stateDir, process.pid)
      await this.logger.close()
      const st = this.stats
      return {
        files: st.files,
        statements: st.statements,
        failed: st.failed,
        unchanged: st.unchanged,
        removed: st.removed,
        graphFailures: st.graphFailures,
        seconds: (performance.now() - this.started) / 1000,
        stats: st,
      }
    })()
    return this.stopped
  }

  /** A fatal error that stopped the service (the watch limit), for the command's exit status. */
  get fatalError(): LineageError | undefined {
    return this.fatal
  }
}
