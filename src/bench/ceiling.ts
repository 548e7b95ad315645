/**
 * The parse ceiling: the most files per second this machine can extract lineage from, measured on the bench's
 * own workload in the same run. The files are already in memory, and `threads` worker threads (the machine's
 * available parallelism) take them from a shared counter and run the same extraction the service runs
 * (extractLineageFromBuffer), with nothing else: no watcher, no reads, no cache, no output, no ledger, no graph.
 * A step's initial ingest over this is the share of the machine's parse capacity that the pipeline delivers
 * (issue: the embedded default at 85% or more, with Neo4j 60% or more).
 *
 * The clock starts once every thread has loaded its grammars (the service's workers load theirs before they
 * report ready, too) and stops when the last file is done.
 */
import {availableParallelism} from 'node:os'
import type {Worker} from 'node:worker_threads'

import type {BenchFile} from './workload.js'
import {LineageError, siblingWorker} from '../core/index.js'

export interface CeilingOptions {
  dialect: string
  defaultDatabase?: string | undefined
  defaultSchema?: string | undefined
  /** Default: the available parallelism. */
  threads?: number
  /** Aborting stops the threads: E_INTERRUPTED (130). */
  signal?: AbortSignal | undefined
}

export interface Ceiling {
  threads: number
  files: number
  seconds: number
  filesPerSecond: number
  /** Statements extracted in all (a check that the threads did the work). */
  statements: number
}

export interface CeilingWorkerData {
  files: {relPath: string; content: Uint8Array}[]
  next: SharedArrayBuffer
  options: Omit<CeilingOptions, 'threads' | 'signal'>
}

export type CeilingMessage = {type: 'ready'} | {type: 'done'; files: number; statements: number}

export async function measureCeiling(files: readonly BenchFile[], options: CeilingOptions): Promise<Ceiling> {
  const threads = Math.max(1, options.threads ?? availableParallelism())
  const next = new SharedArrayBuffer(4)
  const data: CeilingWorkerData = {
    files: files.map((f) => ({relPath: f.relPath, content: f.content})),
    next,
    options: {dialect: options.dialect, defaultDatabase: options.defaultDatabase, defaultSchema: options.defaultSchema},
  }
  const workers = Array.from({length: threads}, () =>
    siblingWorker(import.meta.url, 'ceiling-worker', {workerData: data}),
  )
  let onAbort = (): void => undefined
  const interrupted = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      reject(new LineageError('E_INTERRUPTED', 'bench interrupted'))
    }
    if (options.signal?.aborted) onAbort()
    else options.signal?.addEventListener('abort', onAbort, {once: true})
  })
  // Only ever rejects; keep it from counting as unhandled when nothing aborts.
  interrupted.catch(() => undefined)
  try {
    const ready = workers.map((w) => waitFor(w, 'ready'))
    await Promise.race([Promise.all(ready), interrupted])
    const started = performance.now()
    const done = workers.map((w) => waitFor(w, 'done'))
    for (const w of workers) w.postMessage('go')
    const results = await Promise.race([Promise.all(done), interrupted])
    const seconds = (performance.now() - started) / 1000
    const parsed = results.reduce((n, r) => n + (r.type === 'done' ? r.files : 0), 0)
    const statements = results.reduce((n, r) => n + (r.type === 'done' ? r.statements : 0), 0)
    return {
      threads,
      files: parsed,
      seconds,
      filesPerSecond: seconds > 0 ? parsed / seconds : 0,
      statements,
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

function waitFor(worker: Worker, type: CeilingMessage['type']): Promise<CeilingMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: CeilingMessage): void => {
      if (m.type !== type) return
      worker.off('message', onMessage)
      resolve(m)
    }
    worker.on('message', onMessage)
    worker.once('error', reject)
    worker.once('exit', (code) => {
      reject(new Error(`parse ceiling thread exited (${code}) before "${type}"`))
    })
  })
}
