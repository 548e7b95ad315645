/**
 * Prometheus metrics (prom-client) and the HTTP endpoint that serves them with `/healthz`.
 *
 * Names are the runbook's, which on-call dashboards query: files_processed_total, files_failed_total,
 * batch_processing_duration_seconds, queue_size, and feature_flag_enabled{feature}. No label ever carries
 * a file path (cardinality); failure reasons are a small fixed set of codes.
 *
 * FEATURE_METRICS off: nothing is collected (every recording call is a no-op) and /metrics serves only
 * the control-plane series (feature_flag_enabled, the applied flag revision, up), so a rollback stays
 * visible on the dashboard and the runbook's post-rollback `curl /metrics` still answers. /healthz is
 * always served while the service runs.
 */
import {createServer, type Server} from 'node:http'

import type {Counter, Gauge, Histogram, Registry} from 'prom-client'

import {errorMessage, LineageError} from '../errors.js'
import {FEATURES, type Feature} from '../ops/settings.js'
import type {IngestObserver} from './observer.js'

export interface Health {
  status: 'ok' | 'starting' | 'degraded' | 'stopping'
  pid: number
  startedAt: string
  lastBatchAt: string | null
  queueSize: number
  appliedRevision: number
  features: Record<Feature, boolean>
  graph: 'on' | 'off'
  problems: string[]
}

interface Instruments {
  processed: Counter
  failed: Counter<'reason'>
  statements: Counter
  batchDuration: Histogram
  latency: Histogram
  queue: Gauge
  cacheHits: Counter
  cacheMisses: Counter
  cacheCorruptions: Counter
  neo4jDuration: Histogram
  neo4jFailures: Counter
  neo4jTransactions: Counter
  backlog: Gauge
  workerRestarts: Counter
  workers: Gauge
}

export class Metrics {
  private enabled = false
  private server: Server | undefined
  readonly registry: Registry
  private readonly control: Registry
  private readonly i: Instruments
  private readonly flagGauge: Gauge<'feature'>
  private readonly revisionGauge: Gauge
  /** What /healthz answers; the service sets it once its heartbeat exists. */
  health: () => Health = () => ({
    status: 'starting',
    pid: process.pid,
    startedAt: new Date().toISOString(),
    lastBatchAt: null,
    queueSize: 0,
    appliedRevision: 0,
    features: {'parse-cache': false, batching: false, 'neo4j-batch': false, parallel: false, metrics: false},
    graph: 'off',
    problems: [],
  })

  private constructor(prom: typeof import('prom-client')) {
    this.registry = new prom.Registry()
    this.control = new prom.Registry()
    const reg = [this.registry]
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    this.i = {
      processed: new prom.Counter({name: 'files_processed_total', help: 'Files ingested', registers: reg}),
      failed: new prom.Counter({
        name: 'files_failed_total',
        help: 'Files that failed, by reason code',
        labelNames: ['reason'],
        registers: reg,
      }),
      statements: new prom.Counter({name: 'statements_processed_total', help: 'SQL statements', registers: reg}),
      batchDuration: new prom.Histogram({
        name: 'batch_processing_duration_seconds',
        help: 'Time to process one batch of files, parse to graph write',
        buckets,
        registers: reg,
      }),
      latency: new prom.Histogram({
        name: 'file_ingest_latency_seconds',
        help: 'Time from a file event to its lineage written',
        buckets,
        registers: reg,
      }),
      queue: new prom.Gauge({name: 'queue_size', help: 'File events waiting to be processed', registers: reg}),
      cacheHits: new prom.Counter({name: 'parse_cache_hits_total', help: 'Parse cache hits', registers: reg}),
      cacheMisses: new prom.Counter({name: 'parse_cache_misses_total', help: 'Parse cache misses', registers: reg}),
      cacheCorruptions: new prom.Counter({
        name: 'parse_cache_corruptions_total',
        help: 'Corrupt parse cache files moved aside',
        registers: reg,
      }),
      neo4jDuration: new prom.Histogram({
        name: 'neo4j_write_duration_seconds',
        help: 'Time of one graph write call',
        buckets,
        registers: reg,
      }),
      neo4jFailures: new prom.Counter({
        name: 'neo4j_write_failures_total',
        help: 'Graph writes that failed after retries',
        registers: reg,
      }),
      neo4jTransactions: new prom.Counter({
        name: 'neo4j_transactions_total',
        help: 'Neo4j write transactions',
        registers: reg,
      }),
      backlog: new prom.Gauge({
        name: 'failed_ingestion_backlog',
        help: 'Entries in the failed-ingestion file waiting for retry-failed',
        registers: reg,
      }),
      workerRestarts: new prom.Counter({
        name: 'worker_restarts_total',
        help: 'Parse workers replaced after a crash or timeout',
        registers: reg,
      }),
      workers: new prom.Gauge({name: 'ingest_workers', help: 'Parse workers running', registers: reg}),
    }
    const both = [this.registry, this.control]
    this.flagGauge = new prom.Gauge({
      name: 'feature_flag_enabled',
      help: 'Whether a feature is on (1) or rolled back (0)',
      labelNames: ['feature'],
      registers: both,
    })
    this.revisionGauge = new prom.Gauge({
      name: 'lineage_flag_state_revision',
      help: 'Revision of the operator flag state this service has applied',
      registers: both,
    })
    new prom.Gauge({name: 'lineage_up', help: 'The ingestion service is running', registers: both}).set(1)
    prom.collectDefaultMetrics({register: this.registry})
  }

  static async create(health?: () => Health): Promise<Metrics> {
    const prom = await import('prom-client')
    const metrics = new Metrics(prom)
    if (health) metrics.health = health
    return metrics
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled
  }

  setFlags(features: Record<Feature, boolean>, revision: number): void {
    for (const f of FEATURES) this.flagGauge.set({feature: f}, features[f] ? 1 : 0)
    this.revisionGauge.set(revision)
  }

  fileProcessed(statements: number): void {
    if (!this.enabled) return
    this.i.processed.inc()
    this.i.statements.inc(statements)
  }

  /** From a file's event to its lineage recorded (graph written, or output written with the graph off). */
  fileLatency(seconds: number): void {
    if (this.enabled) this.i.latency.observe(seconds)
  }

  /** The ingestor's reports, as metrics. */
  observer(): IngestObserver {
    return {
      fileParsed: (e) => {
        if (e.cacheUsed) this.cache(e.cacheHit)
        this.fileProcessed(e.statements)
      },
      fileFailed: (e) => {
        if (!e.parsed) this.fileProcessed(0)
        this.fileFailed(e.code)
      },
      fileRecorded: (e) => {
        this.fileLatency(e.latencyMs / 1000)
      },
      graphWritten: (e) => {
        this.graphWrite(e.seconds, e.transactions, e.failures)
      },
      batchDone: (e) => {
        this.batch(e.seconds)
      },
    }
  }

  fileFailed(reason: string): void {
    if (this.enabled) this.i.failed.inc({reason})
  }

  batch(seconds: number): void {
    if (this.enabled) this.i.batchDuration.observe(seconds)
  }

  queueSize(n: number): void {
    if (this.enabled) this.i.queue.set(n)
  }

  cache(hit: boolean): void {
    if (this.enabled) (hit ? this.i.cacheHits : this.i.cacheMisses).inc()
  }

  cacheCorrupt(): void {
    if (this.enabled) this.i.cacheCorruptions.inc()
  }

  graphWrite(seconds: number, transactions: number, failures: number): void {
    if (!this.enabled) return
    this.i.neo4jDuration.observe(seconds)
    this.i.neo4jTransactions.inc(transactions)
    if (failures > 0) this.i.neo4jFailures.inc(failures)
  }

  backlog(n: number): void {
    if (this.enabled) this.i.backlog.set(n)
  }

  workerRestart(): void {
    if (this.enabled) this.i.workerRestarts.inc()
  }

  workers(n: number): void {
    if (this.enabled) this.i.workers.set(n)
  }

  /**
   * Serve /metrics and /healthz; resolves with the bound port (METRICS_PORT=0 picks a free one). A port that
   * cannot be had is LineageError E_CONFIG.
   */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      void this.respond(req.url ?? '/', res)
    })
    this.server = server
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (error) {
      this.server = undefined
      throw new LineageError(
        'E_CONFIG',
        `cannot serve metrics on ${host}:${port}: ${errorMessage(error)}`,
        'Another service may hold the port; set METRICS_PORT to a free one.',
      )
    }
    const address = server.address()
    return typeof address === 'object' && address ? address.port : port
  }

  private async respond(url: string, res: import('node:http').ServerResponse): Promise<void> {
    const path = url.split('?')[0]
    if (path === '/metrics') {
      const registry = this.enabled ? this.registry : this.control
      res.writeHead(200, {'Content-Type': registry.contentType})
      res.end(await registry.metrics())
      return
    }
    if (path === '/healthz' || path === '/health') {
      const health = this.health()
      res.writeHead(health.status === 'ok' || health.status === 'starting' ? 200 : 503, {
        'Content-Type': 'application/json',
      })
      res.end(`${JSON.stringify(health)}\n`)
      return
    }
    res.writeHead(404, {'Content-Type': 'text/plain'})
    res.end('not found: try /metrics or /healthz\n')
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve()
      })
    })
  }
}
