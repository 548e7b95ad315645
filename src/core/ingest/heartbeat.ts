/**
 * Heartbeat: what the running service says about itself now. `health()` is the answer /healthz gives
 * (ok, degraded with the problems, stopping); `beat()` writes the same state to `STATE_DIR/service.json`,
 * which the ops commands read to find the service, its applied flag revision and its metrics address, even
 * when metrics are off. Started, it beats every second and counts the failed-ingestion backlog every five.
 *
 * Never throws: a report that cannot be written is logged at debug (the next beat tries again), an unreadable
 * backlog keeps the last count (verify reports the file itself).
 */
import {hostname} from 'node:os'

import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import {removeServiceReport, type ServiceReport, writeServiceReport} from '../ops/service-state.js'
import type {Settings} from '../ops/settings.js'
import {countFailures} from './dead-letter.js'
import type {Health} from './metrics.js'

/** What the heartbeat reads from the service, each time it beats. */
export interface HeartbeatSource {
  settings(): Settings
  revision(): number
  stopping(): boolean
  queueSize(): number
  /** The problems now: Neo4j unreachable or failing, a fatal watcher error. */
  problems(): string[]
  lastBatchAt(): string | null
  filesProcessed(): number
  metricsPort(): number | undefined
}

export class Heartbeat {
  /** Entries in the failed-ingestion file at the last count. */
  backlog = 0
  private readonly startedAt = new Date().toISOString()
  private readonly timers: NodeJS.Timeout[] = []

  constructor(
    private readonly source: HeartbeatSource,
    private readonly logger: Logger,
    /** Called after every beat and backlog count (the metrics gauges follow them). */
    private readonly onBeat: (health: Health, backlog: number) => void = () => undefined,
  ) {}

  health(): Health {
    const s = this.source.settings()
    const problems = this.source.problems()
    return {
      status: this.source.stopping() ? 'stopping' : problems.length > 0 ? 'degraded' : 'ok',
      pid: process.pid,
      startedAt: this.startedAt,
      lastBatchAt: this.source.lastBatchAt(),
      queueSize: this.source.queueSize(),
      appliedRevision: this.source.revision(),
      features: s.features,
      graph: s.neo4j ? 'on' : 'off',
      problems,
    }
  }

  beat(): void {
    const h = this.health()
    const s = this.source.settings()
    const port = this.source.metricsPort()
    const report: ServiceReport = {
      pid: process.pid,
      host: hostname(),
      startedAt: h.startedAt,
      heartbeatAt: new Date().toISOString(),
      status: h.status,
      appliedRevision: h.appliedRevision,
      features: h.features,
      workers: s.features.parallel ? s.workers : 1,
      metricsUrl: port === undefined ? null : `http://127.0.0.1:${port}/metrics`,
      rawDir: s.rawDir,
      outDir: s.outDir,
      graph: h.graph,
      problems: h.problems,
      queueSize: h.queueSize,
      filesProcessed: this.source.filesProcessed(),
    }
    try {
      writeServiceReport(s.stateDir, report)
    } catch (error) {
      this.logger.debug(`heartbeat not written: ${errorMessage(error)}`)
    }
    this.onBeat(h, this.backlog)
  }

  countBacklog(): void {
    try {
      this.backlog = countFailures(this.source.settings().failedFile)
    } catch {
      // unreadable backlog: verify reports it
    }
  }

  start(): void {
    this.countBacklog()
    this.timers.push(
      setInterval(() => {
        this.beat()
      }, 1000),
      setInterval(() => {
        this.countBacklog()
      }, 5000),
    )
    for (const t of this.timers) t.unref()
    this.beat()
  }

  /** Stop beating and remove the report (only if it is still ours). */
  stop(): void {
    for (const t of this.timers) clearInterval(t)
    removeServiceReport(this.source.settings().stateDir, process.pid)
  }
}
