/**
 * `lineage parse` with the extraction in a worker thread, so that no input takes the command down without its
 * JSON. The files are read and their CREATE TABLE columns collected here (a token pass, no grammar), then
 * each file is extracted in the worker, one at a time:
 * - a statement still parsing after the statement budget has the worker ended (the only way to interrupt a
 *   grammar) and the file parsed again in a new one with that statement read by the token scan
 *   (E_PARSE_BUDGET, file `degraded`); past MAX_OVER_BUDGET such statements the file fails with E_PARSE_BUDGET;
 * - a file over the time limit has its worker ended and fails with E_PARSE_TIMEOUT;
 * - a worker that dies (out of its heap limit, a crash) fails that file with E_WORKER_CRASHED and the reason;
 * and the next file gets a new worker. Each file's session defaults are its folders' `.lineage.json` over the
 * options' (ops/folder-config.ts). Throws only what readParseInputs throws (usage, schema file) and E_CONFIG
 * for a `.lineage.json` that is not valid, before any worker starts. (V8 aborts the whole process on a few fatal errors, such as an array past its maximum
 * size; the worker's heap limit stops such growth long before it gets there.)
 */
import type {Worker} from 'node:worker_threads'

import {LineageError} from '../errors.js'
import {FolderDefaults, type NameDefaults} from '../ops/folder-config.js'
import {
  fileFailure,
  readParseInputs,
  sharedExtractOptions,
  type FileLineage,
  type ParseFilesOptions,
  type ParseFilesResult,
  type StatementSpan,
} from '../sql/index.js'
import {MAX_OVER_BUDGET, StatementWatch} from '../util/statement-watch.js'
import {siblingWorker, workerErrorReason} from '../util/worker.js'
import type {ExtractMessage, ExtractRequest, ExtractWorkerInit} from './extract-worker.js'

export interface IsolatedParseOptions extends ParseFilesOptions {
  /** How long one statement may parse (ms) before it is stopped and read by the token scan. */
  statementBudgetMs: number
  /** How long one file may parse (ms); 80% of it is the soft budget between statements (unless deadlineMs). */
  timeoutMs: number
  /** Heap limit of the worker (MB). */
  workerMaxMb: number
}

type Outcome =
  | {kind: 'done'; lineage: FileLineage}
  | {kind: 'over'; span: StatementSpan}
  | {kind: 'timeout'}
  | {kind: 'crashed'; reason: string}

interface Running {
  worker: Worker
  /** Why it died, from its 'error' event (out of memory, an uncaught error). */
  lastError: string | undefined
  /** The worker once it has loaded its grammar, or why it died before. */
  ready: Promise<Worker | string>
}

/** Parse files as `lineage parse` does, each file's extraction isolated in a worker thread. */
export async function parseSqlFilesIsolated(
  paths: readonly string[],
  options: IsolatedParseOptions,
): Promise<ParseFilesResult> {
  const {texts, schema} = readParseInputs(paths, options)
  const folders = new FolderDefaults({defaultDatabase: options.defaultDatabase, defaultSchema: options.defaultSchema})
  const defaults = paths.map((p) => folders.for(p))
  const invalid = folders.problems
  if (invalid.length > 0) {
    throw new LineageError('E_CONFIG', invalid.join('; '), 'Fix the folder settings file, or remove it.')
  }
  const supervisor = new Supervisor(options, {
    ...sharedExtractOptions(options),
    schema,
    deadlineMs: options.deadlineMs ?? Math.round(options.timeoutMs * 0.8),
  })
  try {
    const files: FileLineage[] = []
    for (const [i, t] of texts.entries())
      files.push(typeof t === 'string' ? await supervisor.extract(paths[i] ?? '', t, defaults[i] ?? {}) : t)
    return {files}
  } finally {
    await supervisor.close()
  }
}

class Supervisor {
  private running: Running | undefined
  private readonly watch: StatementWatch
  private nextId = 1

  constructor(
    private readonly limits: IsolatedParseOptions,
    private readonly shared: ExtractWorkerInit['options'],
  ) {
    this.watch = new StatementWatch(limits.statementBudgetMs)
  }

  async extract(path: string, text: string, defaults: NameDefaults): Promise<FileLineage> {
    const file = {path, dialect: this.limits.dialect}
    const spans: StatementSpan[] = []
    for (;;) {
      const o = await this.runOnce(path, text, defaults, spans)
      if (o.kind === 'done') return o.lineage
      if (o.kind === 'crashed') {
        return fileFailure(file, 'E_WORKER_CRASHED', `the parse worker died on this file: ${o.reason}`)
      }
      if (o.kind === 'timeout') {
        const message = `parsing took longer than the limit of ${this.limits.timeoutMs / 1000} s (--timeout)`
        return fileFailure(file, 'E_PARSE_TIMEOUT', message)
      }
      spans.push(o.span)
      if (spans.length > MAX_OVER_BUDGET) {
        const budget = this.limits.statementBudgetMs / 1000
        const message = `more than ${MAX_OVER_BUDGET} statements ran over the statement budget of ${budget} s`
        return fileFailure(file, 'E_PARSE_BUDGET', message)
      }
    }
  }

  private async runOnce(
    path: string,
    text: string,
    defaults: NameDefaults,
    spans: readonly StatementSpan[],
  ): Promise<Outcome> {
    const started = this.start()
    const worker = await started.ready
    if (typeof worker === 'string') return {kind: 'crashed', reason: worker}
    const id = this.nextId++
    return new Promise<Outcome>((resolve) => {
      const end = (o: Outcome, stop: boolean): void => {
        clearTimeout(timer)
        this.watch.stop()
        worker.off('message', onMessage)
        worker.off('exit', onExit)
        if (!stop) {
          resolve(o)
          return
        }
        this.running = undefined
        const settle = (): void => {
          resolve(o)
        }
        worker.terminate().then(settle, settle)
      }
      const onMessage = (m: ExtractMessage): void => {
        if (m.type === 'result' && m.id === id) end({kind: 'done', lineage: JSON.parse(m.json) as FileLineage}, false)
      }
      const onExit = (code: number): void => {
        this.running = undefined
        end({kind: 'crashed', reason: started.lastError ?? `worker exited with code ${code}`}, false)
      }
      worker.on('message', onMessage)
      worker.on('exit', onExit)
      const timer = setTimeout(() => {
        end({kind: 'timeout'}, true)
      }, this.limits.timeoutMs)
      this.watch.watch((span) => {
        end({kind: 'over', span}, true)
      })
      const over = spans.length > 0 ? {overBudget: {spans: [...spans], budgetMs: this.limits.statementBudgetMs}} : {}
      worker.postMessage({id, path, text, defaults, ...over} satisfies ExtractRequest)
    })
  }

  /** The worker, started when there is none (the first file, or after one was ended or died). */
  private start(): Running {
    if (this.running) return this.running
    const init: ExtractWorkerInit = {options: this.shared, beacon: this.watch.buffer}
    const worker = siblingWorker(import.meta.url, 'extract-worker', {
      workerData: init,
      resourceLimits: {maxOldGenerationSizeMb: this.limits.workerMaxMb},
      // Nothing in the worker prints; should anything ever, it must not land in the JSON on stdout.
      stdout: true,
    })
    worker.stdout.resume()
    const running: Running = {worker, lastError: undefined, ready: Promise.resolve(worker)}
    worker.on('error', (error: Error & {code?: string}) => {
      running.lastError = workerErrorReason(error, this.limits.workerMaxMb)
    })
    running.ready = new Promise((resolve) => {
      const onMessage = (m: ExtractMessage): void => {
        if (m.type !== 'ready') return
        worker.off('exit', onExit)
        worker.off('message', onMessage)
        resolve(worker)
      }
      const onExit = (code: number): void => {
        worker.off('message', onMessage)
        this.running = undefined
        resolve(running.lastError ?? `worker exited with code ${code} while starting`)
      }
      worker.on('message', onMessage)
      worker.on('exit', onExit)
    })
    this.running = running
    return running
  }

  async close(): Promise<void> {
    const worker = this.running?.worker
    this.running = undefined
    this.watch.stop()
    await worker?.terminate()
  }
}
