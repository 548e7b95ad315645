/**
 * How the files of a batch are parsed: a Parser runs one FileTask (stat, read, hash, cache, extract, output
 * file). Two exist: the main thread, one file after another (FEATURE_PARALLEL off, the baseline), and the
 * worker pool (worker-pool.ts), which takes a whole batch at once. `parseAll` runs a batch through one and
 * tells the observer where each parse ran. Never throws for a file's sake: every outcome is a result.
 * ParseResources owns what the service parses with: the main thread's cache connection and the pool.
 */
import {join} from 'node:path'

import {ParseCache} from '../cache/parse-cache.js'
import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import type {NameDefaults} from '../ops/folder-config.js'
import type {Settings} from '../ops/settings.js'
import type {FileEvent} from './batcher.js'
import {type FileTask, type FileTaskResult, outputFileFor, runFileTask} from './file-task.js'
import type {IngestConfig} from './ingestor.js'
import type {IngestObserver} from './observer.js'
import {WorkerPool} from './worker-pool.js'

export interface Parser {
  /** Where it parses: 'main' runs tasks one at a time, 'worker' concurrently. */
  readonly thread: 'main' | 'worker'
  run(task: FileTask, useCache: boolean): Promise<FileTaskResult>
}

/** Parsing on the main thread through its own cache connection (`cache()` is undefined when none opens). */
export function inlineParser(cache: () => ParseCache | undefined): Parser {
  return {
    thread: 'main',
    run: (task, useCache) => Promise.resolve(runFileTask(task, {cache: useCache ? cache() : undefined})),
  }
}

export interface ParseBatch {
  config: IngestConfig
  parser: Parser
  /** The content hash the ledger holds for a path, when it may count as "unchanged" (else undefined). */
  knownHash: (relPath: string) => string | undefined
  /** The file's parse time limit (ms), longer for a file whose last parse ran out; omitted: the setting's. */
  limitMs?: (relPath: string) => number
  observer: IngestObserver | undefined
  /** The session defaults for a path (its folders' `.lineage.json` over the settings); omitted: the settings'. */
  defaults?: (relPath: string) => NameDefaults
}

export async function parseAll(upserts: readonly FileEvent[], batch: ParseBatch): Promise<FileTaskResult[]> {
  const {config, parser, observer} = batch
  const useCache = config.features['parse-cache']
  const tasks: FileTask[] = upserts.map((e) => ({
    absPath: join(config.rawDir, e.relPath),
    relPath: e.relPath,
    dialect: config.dialect,
    ...(batch.defaults?.(e.relPath) ?? {defaultDatabase: config.defaultDatabase, defaultSchema: config.defaultSchema}),
    maxBytes: config.maxFileBytes,
    // The soft deadline lets a long multi-statement file keep what it parsed before the hard limit hits.
    deadlineMs: Math.round((batch.limitMs?.(e.relPath) ?? config.parseTimeoutMs) * 0.8),
    timeoutMs: batch.limitMs?.(e.relPath),
    // Unknown while the path's previous write is in flight: the content may equal the old row yet differ
    // from what that write puts in the graph, so it must be written again (a cache hit, not a parse).
    knownHash: batch.knownHash(e.relPath),
    outFile: outputFileFor(config.outDir, e.relPath),
  }))
  let running = 0
  const one = async (task: FileTask): Promise<FileTaskResult> => {
    running++
    observer?.parseStarted?.({relPath: task.relPath, thread: parser.thread, running})
    try {
      return await parser.run(task, useCache)
    } finally {
      running--
    }
  }
  if (parser.thread === 'worker') return Promise.all(tasks.map(one))
  const results: FileTaskResult[] = []
  for (const task of tasks) results.push(await one(task))
  return results
}

/** What the parsers report to the service's metrics. */
export interface ParseEvents {
  workers(n: number): void
  workerRestart(): void
  /** A statement ran over the statement budget and its file was parsed again without it. */
  statementOverBudget(): void
  cacheCorrupt(): void
  /** A cache entry failed its checksum: dropped, and its file parsed again. */
  cacheBadEntry(): void
}

/**
 * The service's parsing resources: the main thread's parse cache connection and the worker pool, each opened
 * on first use, the pool resized when INGEST_WORKERS changes and dropped when FEATURE_PARALLEL goes off.
 */
export class ParseResources {
  readonly inline: Parser = inlineParser(() => this.mainCache())
  private cache: ParseCache | undefined
  private workers: WorkerPool | undefined

  constructor(
    private readonly settings: () => Settings,
    private readonly logger: Logger,
    private readonly events: ParseEvents,
  ) {}

  /** Parses handed to the pool and not finished. */
  get pending(): number {
    return this.workers?.pending ?? 0
  }

  /** Pool workers alive now; 1 when parsing runs on the main thread (FEATURE_PARALLEL off). */
  get running(): number {
    if (!this.settings().features.parallel) return this.workers?.running ?? 1
    return this.workers?.running ?? 0
  }

  pool(): WorkerPool {
    const s = this.settings()
    if (this.workers && this.workers.size !== s.workers) this.workers.resize(s.workers)
    this.workers ??= new WorkerPool({
      size: s.workers,
      dialect: s.dialect,
      timeoutMs: s.parseTimeoutMs,
      statementBudgetMs: s.statementBudgetMs,
      workerMaxMb: s.workerMaxMb,
      cacheFile: s.cacheFile,
      logger: this.logger,
      onRestart: () => {
        this.events.workerRestart()
      },
      onOverBudget: () => {
        this.events.statementOverBudget()
      },
      onCacheCorrupt: () => {
        this.events.cacheCorrupt()
      },
      onCacheBadEntry: () => {
        this.events.cacheBadEntry()
      },
    })
    this.events.workers(this.workers.running)
    return this.workers
  }

  /** Tasks already handed to the pool finish there; new ones go to a new pool or the main thread. */
  dropPool(): void {
    void this.workers?.close()
    this.workers = undefined
  }

  async close(): Promise<void> {
    await this.workers?.close()
    this.cache?.close()
  }

  private mainCache(): ParseCache | undefined {
    if (!this.cache) {
      try {
        this.cache = ParseCache.open(this.settings().cacheFile, {
          logger: this.logger,
          events: {
            onCorrupt: () => {
              this.events.cacheCorrupt()
            },
            onBadEntry: () => {
              this.events.cacheBadEntry()
            },
          },
        })
      } catch (error) {
        this.logger.warn(`parse cache unavailable, parsing without it: ${errorMessage(error)}`)
      }
    }
    return this.cache
  }
}
