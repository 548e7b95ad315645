/**
 * The Ingestor processes one batch of file events end to end: parse (a Parser: the worker pool or the main
 * thread, through the parse cache), graph write (a GraphSink), failed writes to a FailureSink (the
 * failed-ingestion file), output files, the ledger, and reports to an IngestObserver (metrics) and the log.
 * It depends on those small interfaces only, so tests pass plain objects.
 *
 * Contract: `process` never throws for a file's sake and never drops one silently. Every file ends as
 * written, failed (counted, logged once with its reason, and for graph failures appended to the
 * failed-ingestion file), or unchanged. What cannot be recorded at all (the failed-ingestion file itself
 * unwritable) is left out of the ledger, so the next start ingests it again.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {BatchErrors} from './batch-errors.js'
import type {GraphSink} from '../graph/connection.js'
import type {GraphOp} from '../graph/model.js'
import type {Logger} from '../logger.js'
import {FolderDefaults} from '../ops/folder-config.js'
import type {Settings} from '../ops/settings.js'
import type {FileEvent} from './batcher.js'
import type {FailureSink} from './dead-letter.js'
import {GraphStep} from './graph-step.js'
import {removeOutput} from './file-task.js'
import {FileOutcomes} from './file-outcomes.js'
import type {LedgerRow, LedgerStore} from './ledger.js'
import {nextIncomplete, parseLimitMs} from './incomplete-retry.js'
import type {IngestObserver} from './observer.js'
import {type Parser, parseAll} from './parsers.js'

/** The settings the ingestor reads (the service passes its Settings, live). */
export type IngestConfig = Pick<
  Settings,
  'features' | 'rawDir' | 'outDir' | 'failedFile' | 'dialect' | 'maxFileBytes' | 'parseTimeoutMs'
> &
  Partial<Pick<Settings, 'defaultDatabase' | 'defaultSchema'>>

export interface IngestStats {
  batches: number
  files: number
  statements: number
  failed: number
  unchanged: number
  removed: number
  cacheHits: number
  cacheMisses: number
  graphFailures: number
  transactions: number
  /** Events taken from the batcher and not yet recorded (parsing or being written). */
  inFlight: number
  /** When the last batch was recorded (the ingestor's clock, ms; 0 before the first). */
  lastBatchAt: number
}

export interface IngestDeps {
  logger: Logger
  ledger: LedgerStore
  /** Parsing on the main thread (FEATURE_PARALLEL off). */
  inline: Parser
  /** The worker pool (FEATURE_PARALLEL on); undefined when it cannot be had. */
  pool: () => Parser | undefined
  /** The graph; undefined when none is configured (lineage goes to the output folder only). */
  graph: GraphSink | undefined
  failures: FailureSink
  observer?: IngestObserver
  now?: () => number
}

export function emptyStats(): IngestStats {
  return {
    batches: 0,
    files: 0,
    statements: 0,
    failed: 0,
    unchanged: 0,
    removed: 0,
    cacheHits: 0,
    cacheMisses: 0,
    graphFailures: 0,
    transactions: 0,
    inFlight: 0,
    lastBatchAt: 0,
  }
}

/** Batches parsing or parsed and waiting to be written, at most, with FEATURE_PARALLEL (see `process`). */
const PARSE_AHEAD = 2

/** A parsed batch waiting for its graph write and ledger rows. */
interface Prepared {
  started: number
  ops: GraphOp[]
  done: {event: FileEvent; row: LedgerRow | null}[]
  ledgerRows: Map<string, LedgerRow | undefined>
  /** Paths read while an earlier batch holding them was not recorded yet. */
  stale: string[]
}

export class Ingestor {
  readonly stats: IngestStats = emptyStats()
  private readonly now: () => number
  /** Per-file outcomes, and the outputs a full disk refused (`dueOutputs`, retried by the service). */
  readonly outcomes: FileOutcomes
  /** Batches that failed as a whole (here with FEATURE_PARALLEL, in the service's loop otherwise). */
  readonly batchErrors: BatchErrors
  /** The graph write of a batch, and what its failures become. */
  private readonly graphStep: GraphStep
  /** Batches accepted by `process` and not yet recorded: their paths, and when their parse is done. */
  private readonly active = new Set<{paths: ReadonlySet<string>; parsed: Promise<void>}>()
  /** The last accepted batch's end (recorded, or failed and recorded as a batch error); never rejects. */
  private tail: Promise<void> = Promise.resolve()
  /** Batches accepted and not writing yet (parsing, or parsed and waiting their turn), and `process` calls
   * waiting for one of them to start writing. */
  private ahead = 0
  private readonly slots: (() => void)[] = []
  /** The folders' `.lineage.json` defaults over the settings', read again for each batch. */
  private folders: FolderDefaults
  /** The `.lineage.json` problems already logged. */
  private readonly folderProblems = new Set<string>()
  /** Paths to parse and write again even if their content is what the ledger holds (`watch --reingest`). */
  private readonly forced = new Set<string>()

  constructor(
    private config: IngestConfig,
    private readonly deps: IngestDeps,
  ) {
    this.now = deps.now ?? (() => performance.now())
    this.batchErrors = new BatchErrors(deps.logger)
    this.outcomes = new FileOutcomes(this.stats, deps.logger, deps.observer ?? {}, () => this.config)
    this.graphStep = new GraphStep(deps, this.stats, this.now)
    this.folders = folderDefaults(config)
  }

  /** What is wrong with the disks now (outputs, the failed-ingestion file, the ledger), for /healthz. */
  get problems(): string[] {
    return [
      this.outcomes.problem,
      this.graphStep.problem,
      this.batchErrors.problem,
      ...this.ignoredFolderSettings,
    ].filter((p) => p !== undefined)
  }

  /** The `.lineage.json` files ignored as not valid, each with why, as they are now. */
  get ignoredFolderSettings(): string[] {
    return this.folders.problems
  }

  /** Files to queue again: outputs a full disk refused, and the files of batches that failed as a whole. */
  due(): string[] {
    return [...new Set([...this.outcomes.dueOutputs(), ...this.batchErrors.due()])]
  }

  /** Parse and write `relPath` again at its next upsert, even if its content has not changed. */
  reparse(relPath: string): void {
    this.forced.add(relPath)
  }

  reconfigure(config: IngestConfig): void {
    this.config = config
    this.folders = folderDefaults(config)
  }

  /**
   * Parse a batch, then write it to the graph and record it in the ledger. Writes go one at a time, in batch
   * order, each batch's ledger rows after its own write; `drain()` waits for the last.
   *
   * FEATURE_PARALLEL off: returns when the batch is recorded (and throws what failed it as a whole).
   * On: returns as soon as the batch is accepted, which is at once while fewer than PARSE_AHEAD batches are
   * parsing or waiting for their turn to write (so what waits is bounded). So the pool parses the next batch
   * while this one's slowest files finish and while its write runs: without that, every batch ended with the pool's other workers idle behind its largest file (two
   * workers parsed no faster than one on the bench corpus). A batch failing as a whole is recorded in
   * `batchErrors` here. A path in a batch still parsing waits for that parse (and its output write), so an
   * older parse never overwrites a newer output.
   */
  async process(events: FileEvent[]): Promise<void> {
    const parallel = this.config.features.parallel
    while (parallel && this.ahead >= PARSE_AHEAD) await new Promise<void>((resolve) => this.slots.push(resolve))
    this.stats.inFlight += events.length
    const paths = new Set(events.map((e) => e.relPath))
    const earlier = [...this.active]
    const sameFiles = earlier.filter((b) => events.some((e) => b.paths.has(e.relPath))).map((b) => b.parsed)
    const previous = this.tail
    let parsedNow = (): void => undefined
    const entry = {paths, parsed: new Promise<void>((resolve) => (parsedNow = resolve))}
    this.active.add(entry)
    this.ahead++
    let slotFreed = false
    const freeSlot = (): void => {
      if (slotFreed) return
      slotFreed = true
      this.ahead--
      this.slots.shift()?.()
    }
    const run = (async () => {
      let prepared: Prepared
      try {
        await Promise.all(sameFiles)
        // Paths an earlier batch has parsed but not recorded yet: their ledger rows are about to change.
        const unrecorded = earlier.filter((b) => this.active.has(b))
        prepared = await this.prepare(events, (path) => unrecorded.some((b) => b.paths.has(path)))
      } finally {
        parsedNow()
      }
      await previous
      freeSlot()
      await this.commit(prepared)
    })().finally(() => {
      freeSlot()
      this.active.delete(entry)
      this.stats.inFlight -= events.length
    })
    this.tail = run.then(
      () => undefined,
      (error: unknown) => {
        // Without FEATURE_PARALLEL the caller hears of it (below) and records it.
        if (parallel) this.batchErrors.record([...paths], error)
      },
    )
    if (!parallel) await run
  }

  /** Wait until every batch accepted by `process` has been recorded (before closing the writer). */
  async drain(): Promise<void> {
    await this.tail
  }

  private async prepare(events: FileEvent[], unrecorded: (path: string) => boolean): Promise<Prepared> {
    const started = this.now()
    const stale = events.map((e) => e.relPath).filter(unrecorded)
    const ledgerRows = new Map<string, LedgerRow | undefined>(
      events.map((e) => [e.relPath, this.deps.ledger.get(e.relPath)]),
    )
    const upserts = events.filter((e) => e.op === 'upsert')
    const folders = this.folders
    folders.forget()
    const results = await parseAll(upserts, {
      defaults: (path) => folders.for(join(this.config.rawDir, path)),
      config: this.config,
      parser: (this.config.features.parallel ? this.deps.pool() : undefined) ?? this.deps.inline,
      knownHash: (path) =>
        !stale.includes(path) &&
        !this.forced.has(path) &&
        !this.outcomes.outputDue(path) &&
        !ledgerRows.get(path)?.incomplete &&
        (ledgerRows.get(path)?.graph === 'written' || this.deps.graph === undefined)
          ? ledgerRows.get(path)?.contentHash
          : undefined,
      // A file whose last parse ran out of time gets a longer budget (incomplete-retry.ts).
      limitMs: (path) => parseLimitMs(this.config.parseTimeoutMs, ledgerRows.get(path)?.incomplete ?? 0),
      observer: this.deps.observer,
    })
    for (const e of upserts) this.forced.delete(e.relPath)
    for (const problem of folders.problems) {
      if (this.folderProblems.has(problem)) continue
      this.folderProblems.add(problem)
      this.deps.logger.error(`${problem}; its folder's files use the defaults above it`)
    }
    const ops: GraphOp[] = []
    const done: {event: FileEvent; row: LedgerRow | null}[] = []
    const at = new Date().toISOString()
    const eventByPath = new Map(events.map((e) => [e.relPath, e]))

    for (const result of results) {
      const event = eventByPath.get(result.relPath)
      if (!event) continue
      if (result.kind === 'vanished') {
        event.op = 'remove'
        continue
      }
      if (result.kind === 'unreadable') {
        this.outcomes.failed(result.relPath, result.code, result.message)
        continue
      }
      if (result.kind === 'unchanged') {
        this.stats.unchanged++
        const row = ledgerRows.get(result.relPath)
        if (row) done.push({event, row: {...row, size: result.size, mtimeMs: result.mtimeMs, updatedAt: at}})
        continue
      }
      this.outcomes.parsed(result)
      const {relPath, contentHash, size, mtimeMs, lineage} = result
      ops.push({op: 'upsert', path: relPath, contentHash, dialect: this.config.dialect, ingestedAt: at, lineage})
      const row: LedgerRow = {path: relPath, size, mtimeMs, contentHash, graph: 'written', updatedAt: at}
      const incomplete = nextIncomplete(ledgerRows.get(relPath), {...row, incomplete: lineage.incomplete === true})
      if (incomplete > 0) row.incomplete = incomplete
      done.push({event, row})
    }
    this.outcomes.endBatch()
    for (const event of events) {
      if (event.op !== 'remove') continue
      this.outcomes.forgetOutput(event.relPath)
      removeOutput(this.config.outDir, event.relPath)
      if (ledgerRows.get(event.relPath) || !existsSync(join(this.config.rawDir, event.relPath))) {
        ops.push({op: 'retract', path: event.relPath, at})
        done.push({event, row: null})
        this.stats.removed++
      }
    }
    return {started, ops, done, ledgerRows, stale}
  }

  private async commit(prepared: Prepared): Promise<void> {
    const {started, ops, done, ledgerRows} = prepared
    // Rows read while the previous write of the same paths was in flight: read them again now it landed.
    for (const path of prepared.stale) ledgerRows.set(path, this.deps.ledger.get(path))
    const failedPaths = await this.graphStep.write(ops, this.config.features['neo4j-batch'])
    await this.graphStep.markSuperseded(ops, failedPaths, ledgerRows)
    const changes: {path: string; row: LedgerRow | null}[] = []
    for (const {event, row} of done) {
      const failure = failedPaths.get(event.relPath)
      // A lost retraction keeps the old row, so it is retracted again; a lost upsert is `failed` like one
      // recorded: either way re-ingested when the graph is back or at the next start.
      if (failure === 'lost' && row === null) continue
      changes.push({
        path: event.relPath,
        row: row && {...row, graph: failure ? 'failed' : this.deps.graph ? 'written' : 'off'},
      })
    }
    this.deps.ledger.apply(changes)
    this.batchErrors.succeeded(done.map(({event}) => event.relPath))
    const end = this.now()
    const at = new Map(done.map(({event}) => [event.relPath, event.at]))
    for (const {path, row} of changes) {
      const latencyMs = end - (at.get(path) ?? end)
      this.deps.observer?.fileRecorded?.({relPath: path, row, latencyMs})
    }
    this.stats.batches++
    this.stats.lastBatchAt = end
    this.deps.observer?.batchDone?.({files: done.length, seconds: (end - started) / 1000})
  }
}

function folderDefaults(config: IngestConfig): FolderDefaults {
  return new FolderDefaults(
    {defaultDatabase: config.defaultDatabase, defaultSchema: config.defaultSchema},
    config.rawDir,
  )
}
