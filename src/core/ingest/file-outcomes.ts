/**
 * What the ingestor does with each file's outcome besides the graph: the counts in IngestStats, the report to
 * the observer (metrics), the output record of a parse the pool could not finish, and the log, where a file
 * that keeps failing the same way is logged once, not at every batch. Outputs that could not be written (a
 * full or failing disk) are counted per file, logged once per batch, and kept as due until a later write of
 * them succeeds. Throws nothing.
 */
import type {Logger} from '../logger.js'
import {type OutputError, type ParsedResult, outputFileFor, writeOutputRecord} from './file-task.js'
import type {IngestConfig, IngestStats} from './ingestor.js'
import type {IngestObserver} from './observer.js'

export class FileOutcomes {
  /** The last failure logged per path. */
  private readonly lastFailure = new Map<string, string>()
  /** Files whose output is not in OUT (the write failed): parsed and written again until it is. */
  private readonly outputsDue = new Set<string>()
  /** The output failures of the batch being prepared, logged together by `endBatch`. */
  private batchOutputFailures: {relPath: string; error: OutputError}[] = []
  /** The last output write that failed, for `problem`. */
  private lastOutputError: OutputError | undefined

  constructor(
    private readonly stats: IngestStats,
    private readonly logger: Logger,
    private readonly observer: IngestObserver,
    private readonly config: () => IngestConfig,
  ) {}

  parsed(result: ParsedResult): void {
    const {lineage, relPath} = result
    const cacheUsed = this.config().features['parse-cache']
    let outputError = result.outputError
    if (result.contentHash.startsWith('failed:')) {
      // The worker died or timed out, so nothing wrote the output: record why here.
      outputError = writeOutputRecord(outputFileFor(this.config().outDir, relPath), {
        contentHash: result.contentHash,
        size: result.size,
        lineage,
      })
    }
    this.output(relPath, outputError)
    this.stats.files++
    this.stats.statements += lineage.statements.length
    if (result.cacheHit) this.stats.cacheHits++
    else if (cacheUsed) this.stats.cacheMisses++
    const statements = lineage.statements.length
    this.observer.fileParsed?.({
      relPath,
      statements,
      status: lineage.status,
      cacheHit: result.cacheHit,
      cacheUsed,
      lineage,
    })
    if (lineage.status === 'failed') {
      const first = lineage.errors[0] ?? lineage.statements.find((s) => s.error)?.error
      this.failed(relPath, first?.code ?? 'E_PARSE', first?.message ?? 'no statement could be parsed', false)
    } else if (lineage.status === 'partial') {
      const errors = lineage.statements.filter((s) => s.error)
      this.logOnce(relPath, `partial:${result.contentHash}`, () => {
        const first = errors[0]?.error
        // Out of time is not final: the file is parsed again with a longer budget (incomplete-retry.ts).
        const again = lineage.incomplete ? '; incomplete, parsed again with a longer budget when idle' : ''
        this.logger.warn(`${relPath}: ${errors.length} statement(s) failed, the others ingested${again}`, {
          path: relPath,
          line: first?.line,
          reason: first?.message,
        })
      })
    } else if (lineage.status === 'degraded') {
      const lost = lineage.statements.filter((s) => s.status === 'fallback')
      this.logOnce(relPath, `degraded:${result.contentHash}`, () => {
        this.logger.warn(`${relPath}: ${lost.length} statement(s) ingested without column lineage`, {
          path: relPath,
          line: lost[0]?.line,
        })
      })
    } else {
      this.lastFailure.delete(relPath)
    }
  }

  /** A file that failed: unreadable (`counted` as processed here), or parsed with nothing usable. */
  failed(relPath: string, code: string, message: string, unreadable = true): void {
    this.stats.failed++
    if (unreadable) this.stats.files++
    this.observer.fileFailed?.({relPath, code, parsed: !unreadable})
    this.logOnce(relPath, `${code}:${message}`, () => {
      this.logger.error(`${relPath}: ${message}`, {path: relPath, code})
    })
  }

  /** Is this file's output due (its last write failed)? Its ledger hash must not let it pass as unchanged. */
  outputDue(relPath: string): boolean {
    return this.outputsDue.has(relPath)
  }

  /** What is wrong with the output folder now (outputs not written), for /healthz; undefined when nothing is. */
  get problem(): string | undefined {
    if (this.outputsDue.size === 0) return undefined
    const e = this.lastOutputError
    return (
      `output folder ${this.config().outDir}: ${this.outputsDue.size} output file(s) not written` +
      (e ? ` (${e.code}: ${e.message})` : '')
    )
  }

  /** The files whose output is due, to be queued again. */
  dueOutputs(): string[] {
    return [...this.outputsDue]
  }

  /** The file is gone: its output is no longer due. */
  forgetOutput(relPath: string): void {
    this.outputsDue.delete(relPath)
  }

  /** One log line for the batch's output failures (a full disk fails them all alike), counted per file. */
  endBatch(): void {
    const failures = this.batchOutputFailures
    if (failures.length === 0) return
    this.batchOutputFailures = []
    const [first] = failures
    this.logger.error(
      `${failures.length} output file(s) could not be written (${first?.error.message ?? ''}); ` +
        `their lineage went to the graph, the outputs are written again once the disk has room`,
      {code: first?.error.code, paths: failures.slice(0, 5).map((f) => f.relPath)},
    )
  }

  private output(relPath: string, error: OutputError | undefined): void {
    if (!error) {
      this.outputsDue.delete(relPath)
      return
    }
    this.lastOutputError = error
    // Tried again every few seconds while the disk is full: counted and logged once, until it is written.
    if (this.outputsDue.has(relPath)) return
    this.outputsDue.add(relPath)
    this.batchOutputFailures.push({relPath, error})
    this.stats.failed++
    this.observer.fileFailed?.({relPath, code: error.code, parsed: true})
  }

  private logOnce(relPath: string, signature: string, log: () => void): void {
    if (this.lastFailure.get(relPath) === signature) return
    this.lastFailure.set(relPath, signature)
    log()
  }
}
