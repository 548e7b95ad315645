/**
 * The body of one pool worker: it receives FileTasks, runs them with its own parse cache connection (one
 * better-sqlite3 connection per thread) and posts the results back as JSON text, which crosses the
 * thread boundary faster than a structured clone of the lineage object. It marks each statement it starts in
 * the memory the pool watches (util/statement-watch.ts), so the pool can stop a statement over its budget.
 */
import {parentPort, workerData} from 'node:worker_threads'

import {errorMessage} from '../errors.js'
import {runFileTask, type FileTask} from './file-task.js'
import {ParseCache} from '../cache/parse-cache.js'
import {extractLineage} from '../sql/index.js'
import {StatementBeacon} from '../util/statement-watch.js'

export interface WorkerInit {
  cacheFile: string
  /** Loaded before the worker reports ready, so the first file's time limit does not pay for it. */
  dialect: string
  /** The pool's StatementWatch memory, where this worker marks each statement it starts. */
  beacon: SharedArrayBuffer
}

export interface WorkerRequest {
  id: number
  task: FileTask
  useCache: boolean
}

export type WorkerMessage =
  | {type: 'result'; id: number; json: string}
  | {type: 'cache-corrupt'; reason: string; movedTo: string | null}
  | {type: 'cache-bad-entry'}
  | {type: 'log'; level: 'warn' | 'debug'; message: string}
  | {type: 'ready'}

const init = workerData as WorkerInit
const port = parentPort
let cache: ParseCache | undefined
const beacon = new StatementBeacon(init.beacon)

function post(message: WorkerMessage): void {
  port?.postMessage(message)
}

function openCache(): ParseCache | undefined {
  if (cache) return cache
  try {
    cache = ParseCache.open(init.cacheFile, {
      logger: {
        debug: (m) => {
          post({type: 'log', level: 'debug', message: m})
        },
        info: (m) => {
          post({type: 'log', level: 'debug', message: m})
        },
        warn: (m) => {
          post({type: 'log', level: 'warn', message: m})
        },
        error: (m) => {
          post({type: 'log', level: 'warn', message: m})
        },
      },
      events: {
        onCorrupt: (info) => {
          post({type: 'cache-corrupt', reason: info.reason, movedTo: info.movedTo})
        },
        onBadEntry: () => {
          post({type: 'cache-bad-entry'})
        },
      },
    })
  } catch (error) {
    post({type: 'log', level: 'warn', message: `parse cache unavailable in worker: ${errorMessage(error)}`})
  }
  return cache
}

// Load the dialect's grammar now: it takes longer than most files do.
extractLineage('SELECT 1 FROM warm_up', {path: 'warm-up.sql', dialect: init.dialect})
post({type: 'ready'})

port?.on('message', (request: WorkerRequest | {type: 'close'}) => {
  if ('type' in request) {
    // Graceful stop: persist the cache counters, then let the thread end.
    cache?.close()
    cache = undefined
    port.close()
    return
  }
  const result = runFileTask(request.task, {
    cache: request.useCache ? openCache() : undefined,
    onStatement: beacon.mark,
  })
  post({type: 'result', id: request.id, json: JSON.stringify(result)})
})
