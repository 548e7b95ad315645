/**
 * A pool of worker_threads that run FileTasks (FEATURE_PARALLEL). Each worker reads and hashes its files
 * itself and has its own parse cache connection, so the main thread stays free for events and graph I/O.
 *
 * Failure contract: the pool is never left broken. A task that runs past the time limit has its worker
 * terminated and replaced, and fails with E_PARSE_TIMEOUT, marked incomplete (retried later with a longer
 * limit, not at once: a pathological file would only time out again). A worker that crashes or runs out of
 * memory is replaced and its task retried once; a second crash fails the task with E_WORKER_CRASHED and the
 * reason. A statement still parsing after the statement budget (LINEAGE_STATEMENT_BUDGET_SECONDS, watched
 * through util/statement-watch.ts) has its worker ended and replaced too, and the file is parsed again with
 * that statement left to the token scan (E_PARSE_BUDGET, file `degraded`), so the rest of its lineage is kept;
 * past MAX_OVER_BUDGET such statements the file fails with E_PARSE_BUDGET. `run` never rejects for a task's sake.
 */
import type {Worker} from 'node:worker_threads'

import {failedLineage, type FileTask, type FileTaskResult, removeOutputTemps} from './file-task.js'
import type {Logger} from '../logger.js'
import {MAX_OVER_BUDGET, StatementWatch} from '../util/statement-watch.js'
import {siblingWorker, workerErrorReason} from '../util/worker.js'
import type {StatementSpan} from '../sql/index.js'
import type {Parser} from './parsers.js'
import type {WorkerInit, WorkerMessage, WorkerRequest} from './parse-worker.js'

export interface PoolOptions {
  size: number
  dialect: string
  timeoutMs: number
  /** How long one statement may parse before its worker is ended (LINEAGE_STATEMENT_BUDGET_SECONDS, ms). */
  statementBudgetMs: number
  workerMaxMb: number
  cacheFile: string
  logger: Logger
  onRestart?: (reason: string) => void
  /** A statement ran over the statement budget: its worker was replaced and the file is parsed again. */
  onOverBudget?: (relPath: string) => void
  onCacheCorrupt?: (reason: string) => void
  /** A worker's cache entry failed its checksum (the worker logs it with the path). */
  onCacheBadEntry?: () => void
}

interface Job {
  id: number
  task: FileTask
  useCache: boolean
  attempts: number
  resolve: (result: FileTaskResult) => void
}

interface Slot {
  worker: Worker
  job: Job | undefined
  timer: NodeJS.Timeout | undefined
  lastError: string | undefined
  /** Set when the pool itself ends the worker (timeout, close), so its exit is not a crash. */
  retiring: boolean
  /** The worker has loaded its grammar and takes tasks. */
  ready: boolean
  /** Watches the statement the worker is extracting against the statement budget. */
  watch: StatementWatch
}

export class WorkerPool implements Parser {
  readonly thread = 'worker'
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 1
  private closed = false
  /** Workers that died before becoming ready, in a row: respawning slows down so a broken setup cannot spin. */
  private startupFailures = 0
  restarts = 0
  private target: number | undefined
  /** Jobs whose worker is being ended for a statement over budget, before they are queued again. */
  private requeueing = 0

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn())
  }

  /** The size it runs at, or is converging to after a resize (a busy worker retires when its file is done). */
  get size(): number {
    return this.target ?? this.slots.length
  }

  /** Workers alive now. */
  get running(): number {
    return this.slots.length
  }

  /** INGEST_WORKERS changed: grow at once; shrink by retiring idle workers now and busy ones when they finish. */
  resize(size: number): void {
    if (this.closed) return
    this.target = size
    while (this.slots.length < size) this.slots.push(this.spawn())
    this.retireExtra()
    this.dispatch()
  }

  private retireExtra(): void {
    if (this.target === undefined) return
    for (const slot of [...this.slots].reverse()) {
      if (this.slots.length <= this.target) return
      if (slot.job) continue
      this.slots.splice(this.slots.indexOf(slot), 1)
      slot.retiring = true
      slot.worker.postMessage({type: 'close'})
      setTimeout(() => void slot.worker.terminate(), 2000).unref()
    }
  }

  /** Jobs waiting for a worker plus those running (a job between a stopped worker and its queueing again too). */
  get pending(): number {
    return this.queue.length + this.slots.filter((s) => s.job).length + this.requeueing
  }

  run(task: FileTask, useCache: boolean): Promise<FileTaskResult> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'))
    return new Promise((resolve) => {
      this.queue.push({id: this.nextId++, task, useCache, attempts: 0, resolve})
      this.dispatch()
    })
  }

  private spawn(): Slot {
    const watch = new StatementWatch(this.options.statementBudgetMs)
    const init: WorkerInit = {cacheFile: this.options.cacheFile, dialect: this.options.dialect, beacon: watch.buffer}
    const worker = siblingWorker(import.meta.url, 'parse-worker', {
      workerData: init,
      resourceLimits: {maxOldGenerationSizeMb: this.options.workerMaxMb},
    })
    const slot: Slot = {
      worker,
      job: undefined,
      timer: undefined,
      lastError: undefined,
      retiring: false,
      ready: false,
      watch,
    }
    worker.on('message', (message: WorkerMessage) => {
      this.onMessage(slot, message)
    })
    worker.on('error', (error: Error & {code?: string}) => {
      slot.lastError = workerErrorReason(error, this.options.workerMaxMb)
    })
    worker.on('exit', (code) => {
      this.onExit(slot, code)
    })
    // Idle workers must not keep a finished `watch --once` alive.
    worker.unref()
    return slot
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    if (message.type === 'log') {
      this.options.logger[message.level](message.message)
      return
    }
    if (message.type === 'ready') {
      slot.ready = true
      this.startupFailures = 0
      this.dispatch()
      return
    }
    if (message.type === 'cache-corrupt') {
      this.options.onCacheCorrupt?.(message.reason)
      return
    }
    if (message.type === 'cache-bad-entry') {
      this.options.onCacheBadEntry?.()
      return
    }
    const job = slot.job
    if (job?.id !== message.id) return
    this.finish(slot, JSON.parse(message.json) as FileTaskResult)
  }

  private finish(slot: Slot, result: FileTaskResult): void {
    const job = slot.job
    if (slot.timer) clearTimeout(slot.timer)
    slot.timer = undefined
    slot.watch.stop()
    slot.job = undefined
    job?.resolve(result)
    this.retireExtra()
    this.dispatch()
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot)
    const job = slot.job
    if (slot.timer) clearTimeout(slot.timer)
    slot.watch.stop()
    slot.job = undefined
    if (index === -1) return
    if (this.closed) {
      this.slots.splice(index, 1)
      if (job) job.resolve(this.failure(job, 'E_WORKER_CRASHED', 'worker pool closed while the file was parsed'))
      return
    }
    const reason = slot.lastError ?? `worker exited with code ${code}`
    if (!slot.retiring || job) {
      this.restarts++
      this.options.onRestart?.(reason)
      this.options.logger.warn(`parse worker replaced: ${reason}`)
    }
    if (!slot.ready) this.startupFailures++
    const delay = Math.min(5000, this.startupFailures === 0 ? 0 : 100 * 2 ** this.startupFailures)
    if (delay === 0) this.slots[index] = this.spawn()
    else {
      // Keep the slot (not ready, so it takes no task) until the replacement starts.
      slot.retiring = true
      setTimeout(() => {
        const at = this.slots.indexOf(slot)
        if (at !== -1 && !this.closed) this.slots[at] = this.spawn()
        this.dispatch()
      }, delay).unref()
    }
    if (job) {
      if (job.attempts < 2) {
        this.queue.unshift(job)
      } else {
        job.resolve(this.failure(job, 'E_WORKER_CRASHED', `parse worker crashed twice on this file: ${reason}`))
      }
    }
    this.dispatch()
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break
      if (slot.job || slot.retiring || !slot.ready) continue
      const job = this.queue.shift()
      if (!job) break
      job.attempts++
      slot.job = job
      slot.timer = setTimeout(() => {
        this.onTimeout(slot, job)
      }, this.limitMs(job))
      slot.watch.watch((span) => {
        this.onOverBudget(slot, job, span)
      })
      const request: WorkerRequest = {id: job.id, task: job.task, useCache: job.useCache}
      slot.worker.postMessage(request)
    }
    // Workers keep the process alive only while there is work; an idle pool must not hold `watch --once` open.
    for (const slot of this.slots) {
      if (slot.job || this.queue.length > 0) slot.worker.ref()
      else slot.worker.unref()
    }
  }

  /** The hard limit of a job: its task's own (a retry with a longer budget), else the pool's. */
  private limitMs(job: Job): number {
    return job.task.timeoutMs ?? this.options.timeoutMs
  }

  private onTimeout(slot: Slot, job: Job): void {
    if (slot.job !== job) return
    slot.watch.stop()
    slot.job = undefined
    slot.retiring = true
    const limitMs = this.limitMs(job)
    slot.lastError = `timed out after ${limitMs} ms`
    const failure = this.failure(
      job,
      'E_PARSE_TIMEOUT',
      `parsing took longer than the limit of ${limitMs / 1000} s (LINEAGE_PARSE_TIMEOUT_SECONDS)`,
    )
    // Out of time, which depends on the machine's load: not final, the file is parsed again (incomplete-retry.ts).
    if (failure.kind === 'parsed') failure.lineage.incomplete = true
    // Settled once the worker is gone, so it can neither rename its output over the failure's record nor
    // leave its temp file (it may have been ended in the middle of writing it).
    const settle = (): void => {
      if (job.task.outFile) removeOutputTemps(job.task.outFile)
      job.resolve(failure)
    }
    slot.worker.terminate().then(settle, settle)
  }

  /**
   * A statement ran over its budget: end the worker (the only way to stop a grammar), then queue the file again
   * with that statement left to the token scan. Not a crash: the attempt does not count towards the retry.
   */
  private onOverBudget(slot: Slot, job: Job, span: StatementSpan): void {
    if (slot.job !== job) return
    if (slot.timer) clearTimeout(slot.timer)
    slot.timer = undefined
    slot.job = undefined
    slot.retiring = true
    const budgetMs = this.options.statementBudgetMs
    slot.lastError = `a statement ran over its ${budgetMs / 1000} s budget`
    const spans = [...(job.task.overBudget?.spans ?? []), span]
    this.options.onOverBudget?.(job.task.relPath)
    this.options.logger.warn(
      `${job.task.relPath}: a statement ran over the statement budget of ${budgetMs / 1000} s ` +
        '(LINEAGE_STATEMENT_BUDGET_SECONDS); parse worker replaced, the file is parsed again with that statement ' +
        'read by the token scan',
    )
    this.requeueing++
    const settle = (): void => {
      this.requeueing--
      if (job.task.outFile) removeOutputTemps(job.task.outFile)
      if (spans.length > MAX_OVER_BUDGET) {
        const message = `more than ${MAX_OVER_BUDGET} statements ran over the statement budget of ${budgetMs / 1000} s`
        job.resolve(this.failure(job, 'E_PARSE_BUDGET', message))
      } else {
        job.task = {...job.task, overBudget: {spans, budgetMs}}
        job.attempts--
        this.queue.unshift(job)
      }
      this.dispatch()
    }
    slot.worker.terminate().then(settle, settle)
  }

  private failure(job: Job, code: string, message: string): FileTaskResult {
    return {
      kind: 'parsed',
      relPath: job.task.relPath,
      contentHash: `failed:${code}`,
      size: 0,
      mtimeMs: 0,
      lineage: failedLineage(job.task, code, message),
      cacheHit: false,
      parseMs: 0,
    }
  }

  /** Let running tasks finish, then end every worker. Queued tasks are resolved by their running turn. */
  async close(): Promise<void> {
    while (this.pending > 0) await new Promise((r) => setTimeout(r, 10))
    this.closed = true
    const exits = this.slots.map(
      (slot) =>
        new Promise<void>((resolve) => {
          slot.retiring = true
          // A worker that does not end by itself is stopped. The timer is not unref'd: it keeps the process
          // alive until every worker has exited, or a finished `watch --once` would end with close() unsettled.
          const stop = setTimeout(() => void slot.worker.terminate(), 2000)
          slot.worker.once('exit', () => {
            clearTimeout(stop)
            resolve()
          })
          slot.worker.postMessage({type: 'close'})
        }),
    )
    await Promise.all(exits)
  }
}
