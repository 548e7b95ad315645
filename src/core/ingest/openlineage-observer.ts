/**
 * `watch` with LINEAGE_OPENLINEAGE_URL: each file whose lineage is recorded is sent to the OpenLineage endpoint
 * as one RunEvent (openlineage/event.ts), the same event `lineage export` builds from the same output record.
 *
 * It never blocks or fails ingestion: the observer only builds the event and queues it; one sender posts the
 * queue in order, in the background. A send that fails is retried with backoff (transport.ts: 5 tries, 4 to 8 s of
 * waits between them, 10 s at most per try), then the event is dropped and counted. While the endpoint is down (a send ran out of retries) each
 * event is tried once, so the queue does not grow with the outage; the first success ends it. An outage is
 * logged once when it starts and once when it ends (with the events dropped meanwhile); a refusal (4xx) once per
 * status. While it is down, /healthz names the outage (`problem`), and the endpoint is asked every `probeMs` (a
 * HEAD request; any answer under 500 counts) while no event is being sent, so the outage ends when the endpoint
 * is back, not at the next ingested file. The queue holds at most `maxQueue` events, newer ones are dropped past it. On stop the queue gets
 * `closeTimeoutMs` to drain; what is left is dropped. Every drop is counted in
 * openlineage_events_dropped_total{reason}; `lineage export --to URL` sends everything again (the same run ids).
 *
 * Removed files send nothing; unchanged files (a touch) send nothing; files whose parse failed as a whole send
 * nothing (no lineage to tell). Never throws.
 */
import {join} from 'node:path'

import type {Counter, Gauge, Registry} from 'prom-client'

import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import {buildRunEvent, type EventSource} from '../openlineage/event.js'
import {readEventSource, readSql} from '../openlineage/source.js'
import {DEFAULT_RETRY, type Endpoint, parseEndpoint, type RetryPolicy, send} from '../openlineage/transport.js'
import type {FileLineage} from '../types.js'
import {outputFileFor} from './file-task.js'
import type {IngestObserver} from './observer.js'

export const DROP_REASONS = ['refused', 'unreachable', 'overflow', 'shutdown'] as const
type DropReason = (typeof DROP_REASONS)[number]

export interface EmitterOptions {
  url: string
  namespace: string
  rawDir: string
  outDir: string
  logger: Logger
  /** Where the openlineage_* metrics are registered. */
  registry: Registry
  retry?: RetryPolicy
  maxQueue?: number
  closeTimeoutMs?: number
  /** How often an endpoint that is down is asked whether it answers again (ms). */
  probeMs?: number
}

interface Instruments {
  sent: Counter
  dropped: Counter<'reason'>
  retries: Counter
  queue: Gauge
}

export class OpenLineageEmitter {
  readonly endpoint: Endpoint
  readonly stats = {sent: 0, dropped: 0}
  private readonly queue: {path: string; body: string}[] = []
  private readonly parsed = new Map<string, FileLineage>()
  private pumping: Promise<void> | undefined
  private down: {since: number; dropped: number; probe: NodeJS.Timeout} | undefined
  private readonly refusals = new Set<string>()
  private overflowLogged = false
  private closed = false
  private readonly stop = new AbortController()

  private constructor(
    private readonly options: EmitterOptions,
    private readonly i: Instruments,
  ) {
    this.endpoint = parseEndpoint(options.url, 'LINEAGE_OPENLINEAGE_URL', 'E_CONFIG')
  }

  /** Throws E_CONFIG for a URL that is not http(s). */
  static async create(options: EmitterOptions): Promise<OpenLineageEmitter> {
    const prom = await import('prom-client')
    const registers = [options.registry]
    const i: Instruments = {
      sent: new prom.Counter({
        name: 'openlineage_events_sent_total',
        help: 'OpenLineage events the endpoint accepted',
        registers,
      }),
      dropped: new prom.Counter({
        name: 'openlineage_events_dropped_total',
        help: 'OpenLineage events given up: refused, unreachable after retries, queue full, or left at shutdown',
        labelNames: ['reason'],
        registers,
      }),
      retries: new prom.Counter({
        name: 'openlineage_send_retries_total',
        help: 'OpenLineage sends that failed and were tried again',
        registers,
      }),
      queue: new prom.Gauge({name: 'openlineage_queue_size', help: 'OpenLineage events waiting to be sent', registers}),
    }
    for (const reason of DROP_REASONS) i.dropped.inc({reason}, 0)
    return new OpenLineageEmitter(options, i)
  }

  get namespace(): string {
    return this.options.namespace
  }

  get queued(): number {
    return this.queue.length
  }

  /** The outage /healthz reports, while the endpoint is down. */
  get problem(): string | undefined {
    if (!this.down) return undefined
    return (
      `OpenLineage endpoint ${this.endpoint.display} unreachable since ${new Date(this.down.since).toISOString()}: ` +
      `${this.down.dropped} event(s) dropped ("lineage export --to URL" sends them again)`
    )
  }

  observer(): IngestObserver {
    return {
      fileParsed: (e) => {
        if (e.lineage) this.parsed.set(e.relPath, e.lineage)
      },
      fileRecorded: (e) => {
        const lineage = this.parsed.get(e.relPath)
        this.parsed.delete(e.relPath)
        if (!e.row || !lineage) return
        try {
          const source = this.sourceOf(e.relPath, e.row.contentHash, lineage)
          if (source) this.enqueue(source.path, JSON.stringify(buildRunEvent(source, this.options.namespace)))
        } catch (error) {
          this.options.logger.warn(`OpenLineage event for ${e.relPath} not built: ${errorMessage(error)}`)
        }
      },
      batchDone: () => {
        this.parsed.clear()
      },
    }
  }

  /**
   * The output record just written, as `export` reads it; when it could not be written (a full disk), the
   * lineage as parsed, ingested now. A failed parse: nothing.
   */
  private sourceOf(relPath: string, contentHash: string, lineage: FileLineage): EventSource | undefined {
    const read = readEventSource(outputFileFor(this.options.outDir, relPath), this.options.rawDir)
    if (read.kind === 'event' && read.source.contentHash === contentHash) return read.source
    if (read.kind === 'failed' || lineage.status === 'failed') return undefined
    return {
      path: relPath,
      contentHash,
      ingestedAt: new Date().toISOString(),
      dialect: lineage.dialect,
      sources: lineage.sources,
      targets: lineage.targets,
      columns: lineage.columns,
      statementColumns: lineage.statements.flatMap((s) => s.columns),
      sql: readSql(join(this.options.rawDir, relPath), contentHash),
    }
  }

  private enqueue(path: string, body: string): void {
    if (this.closed) return
    if (this.queue.length >= (this.options.maxQueue ?? 10_000)) {
      this.drop('overflow', 1)
      if (!this.overflowLogged) {
        this.overflowLogged = true
        this.options.logger.warn(
          `OpenLineage queue full (${this.queue.length} events for ${this.endpoint.display}): newer events are dropped`,
        )
      }
      return
    }
    this.queue.push({path, body})
    this.i.queue.set(this.queue.length)
    this.pumping ??= this.pump().finally(() => {
      this.pumping = undefined
    })
  }

  private async pump(): Promise<void> {
    const {logger} = this.options
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      this.i.queue.set(this.queue.length + 1)
      const policy = this.down ? {...(this.options.retry ?? DEFAULT_RETRY), attempts: 1} : this.options.retry
      const result = await send(this.endpoint, next.body, policy ?? DEFAULT_RETRY, {
        onFailedAttempt: () => {
          this.i.retries.inc()
        },
        stop: this.stop.signal,
      })
      this.i.queue.set(this.queue.length)
      if (result.ok) {
        this.stats.sent++
        this.i.sent.inc()
        this.up()
        continue
      }
      if (result.refused) {
        this.drop('refused', 1)
        if (!this.refusals.has(result.reason)) {
          this.refusals.add(result.reason)
          logger.warn(
            `OpenLineage endpoint ${this.endpoint.display} refused the event for ${next.path}: ${result.reason}`,
          )
        }
        continue
      }
      if (this.stop.signal.aborted) {
        this.queue.unshift(next)
        break
      }
      this.drop('unreachable', 1)
      if (this.down) {
        this.down.dropped++
      } else {
        this.down = {since: Date.now(), dropped: 1, probe: this.startProbe()}
        logger.warn(
          `OpenLineage endpoint ${this.endpoint.display} is unreachable (${result.reason}); events are dropped ` +
            `and counted (openlineage_events_dropped_total) until it answers; "lineage export --to URL" sends them again`,
        )
      }
    }
  }

  /** The endpoint answered: an outage ends, said once with what it cost. */
  private up(): void {
    if (!this.down) return
    clearInterval(this.down.probe)
    const secs = Math.round((Date.now() - this.down.since) / 1000)
    this.options.logger.info(
      `OpenLineage endpoint ${this.endpoint.display} reachable again after ${secs} s; ` +
        `${this.down.dropped} event(s) dropped meanwhile ("lineage export --to URL" sends them again)`,
    )
    this.down = undefined
  }

  /** While down and idle, ask the endpoint whether it answers (a sender in flight will tell by itself). */
  private startProbe(): NodeJS.Timeout {
    const timer = setInterval(() => {
      if (this.pumping || this.closed) return
      fetch(this.endpoint.url, {method: 'HEAD', headers: this.endpoint.headers, signal: AbortSignal.timeout(5000)})
        .then((res) => {
          if (res.status < 500) this.up()
        })
        .catch(() => undefined) // still down
    }, this.options.probeMs ?? 10_000)
    timer.unref()
    return timer
  }

  private drop(reason: DropReason, n: number): void {
    this.stats.dropped += n
    this.i.dropped.inc({reason}, n)
  }

  /**
   * Stop taking events; give the queue `closeTimeoutMs` to drain, then drop what is left (counted). Logs what
   * was sent and dropped over the run: a warning when anything was dropped.
   */
  async close(): Promise<void> {
    this.closed = true
    if (this.down) clearInterval(this.down.probe)
    if (this.pumping) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 10_000)
      })
      await Promise.race([this.pumping, timeout])
      clearTimeout(timer)
      this.stop.abort()
      await this.pumping
    }
    const left = this.queue.length
    if (left > 0) {
      this.drop('shutdown', left)
      this.queue.length = 0
      this.i.queue.set(0)
    }
    const {sent, dropped} = this.stats
    const line = `OpenLineage: ${sent} event(s) sent to ${this.endpoint.display}, ${dropped} dropped`
    if (dropped === 0) this.options.logger.info(line)
    else this.options.logger.warn(`${line} (${left} at stop); "lineage export --to URL" sends them again`)
  }
}
