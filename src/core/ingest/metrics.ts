/**
 * Prometheus metrics (prom-client) and the HTTP endpoint that serves them with `/healthz`.
 *
 * Names are the runbook's, which on-call dashboards query: files_processed_total, files_failed_total,
 * batch_processing_duration_seconds, queue_size, and feature_flag_enabled{feature}; the instruments and
 * their two registries are in metric-defs.ts. No label ever carries a file path (cardinality).
 *
 * FEATURE_METRICS off (a rollback): the runbook's four signals, the failed-ingestion backlog and the control
 * plane are still collected and served, so the operator can watch queue_size fall; the detail registry (per-file
 * histograms, cache/statement/Neo4j counters, default process metrics) is neither collected nor served.
 * /healthz is always served while the service runs. Default process metrics named like counters but typed as
 * gauges (nodejs_active_*_total) are dropped: `promtool check metrics` rejects them.
 */
import {createServer, type Server} from 'node:http'

import type {Registry} from 'prom-client'

import {errorMessage, LineageError} from '../errors.js'
import {FEATURES, type Feature} from '../ops/settings.js'
import {createInstruments, failureReason, type Instruments} from './metric-defs.js'
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

/** prom-client defaults typed gauge but named `_total`, which `promtool check metrics` rejects. */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

export class Metrics {
  private enabled = false
  private server: Server | undefined
  /** Served always: the runbook's signals and the control plane. */
  readonly signals: Registry
  /** Served and collected with FEATURE_METRICS on only. */
  readonly registry: Registry
  private readonly both: Registry
  private readonly i: Instruments
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
    this.signals = new prom.Registry()
    this.registry = new prom.Registry()
    this.i = createInstruments(prom, this.signals, this.registry)
    prom.collectDefaultMetrics({register: this.registry})
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name)
    this.both = prom.Registry.merge([this.signals, this.registry])
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
    for (const f of FEATURES) this.i.flags.set({feature: f}, features[f] ? 1 : 0)
    this.i.revision.set(revision)
  }

  /** The ingestor's reports, as metrics. */
  observer(): IngestObserver {
    return {
      fileParsed: (e) => {
        if (e.cacheUsed) this.cache(e.cacheHit)
        if (!this.enabled) return
        this.i.parsed.inc()
        this.i.statements.inc(e.statements)
        for (const s of e.lineage?.statements ?? []) {
          if (s.status === 'fallback' || s.status === 'failed') this.i.degraded.inc({status: s.status})
        }
      },
      fileFailed: (e) => {
        // An unreadable file never reaches the ledger, so it is done (processed) here; a parsed one when recorded.
        if (!e.parsed) this.i.processed.inc()
        this.fileFailed(e.code)
      },
      fileRecorded: (e) => {
        if (!e.row) return
        this.i.processed.inc()
        if (e.row.graph === 'failed') this.fileFailed('E_GRAPH_WRITE')
        if (this.enabled) this.i.latency.observe(e.latencyMs / 1000)
      },
      graphWritten: (e) => {
        this.graphWrite(e.seconds, e.transactions, e.failures)
      },
      batchDone: (e) => {
        this.batch(e.seconds)
      },
    }
  }

  /** One failed file, by its error code (E_GRAPH_WRITE: its graph write failed and awaits retry-failed). */
  fileFailed(code: string): void {
    this.i.failed.inc()
    if (this.enabled) this.i.failedByReason.inc({reason: code === 'E_GRAPH_WRITE' ? 'graph' : failureReason(code)})
  }

  batch(seconds: number): void {
    this.i.batchDuration.observe(seconds)
  }

  queueSize(n: number): void {
    this.i.queue.set(n)
  }

  cache(hit: boolean): void {
    if (this.enabled) (hit ? this.i.cacheHits : this.i.cacheMisses).inc()
  }

  cacheCorrupt(): void {
    if (this.enabled) this.i.cacheCorruptions.inc()
  }

  cacheBadEntry(): void {
    if (this.enabled) this.i.cacheBadEntries.inc()
  }

  graphWrite(seconds: number, transactions: number, failures: number): void {
    if (!this.enabled) return
    this.i.neo4jDuration.observe(seconds)
    this.i.neo4jTransactions.inc(transactions)
    if (failures > 0) this.i.neo4jFailures.inc(failures)
  }

  backlog(n: number): void {
    this.i.backlog.set(n)
  }

  /** Files whose lineage is incomplete: retried when idle (`pending`), or left as they are (`exhausted`). */
  incomplete(pending: number, exhausted: number): void {
    this.i.incomplete.set({retry: 'pending'}, pending)
    this.i.incomplete.set({retry: 'exhausted'}, exhausted)
  }

  workerRestart(): void {
    if (this.enabled) this.i.workerRestarts.inc()
  }

  statementOverBudget(): void {
    if (this.enabled) this.i.overBudget.inc()
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
      const registry = this.enabled ? this.both : this.signals
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
    if (path === '/livez') {
      // Liveness, apart from health: a service that answers is alive even while Neo4j is down (degraded), and
      // restarting it would only replay its backlog. A wedged event loop does not answer at all.
      res.writeHead(200, {'Content-Type': 'application/json'})
      res.end(`${JSON.stringify({status: 'alive', pid: process.pid})}\n`)
      return
    }
    res.writeHead(404, {'Content-Type': 'text/plain'})
    res.end('not found: try /metrics, /healthz or /livez\n')
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
