/**
 * What the ingestor does with each file's outcome besides the graph: the counts in IngestStats, the report to
 * the observer (metrics), the output record of a parse the pool could not finish, and the log, where a file
 * that keeps failing the same way is logged once, not at every batch. Throws only what the output write
 * throws for a failed parse's record.
 */
import type {Logger} from '../logger.js'
import {type ParsedResult, outputFileFor, writeOutputRecord} from './file-task.js'
import type {IngestConfig, IngestStats} from './ingestor.js'
import type {IngestObserver} from './observer.js'

export class FileOutcomes {
  /** The last failure logged per path. */
  private readonly lastFailure = new Map<string, string>()

  constructor(
    private readonly stats: IngestStats,
    private readonly logger: Logger,
    private readonly observer: IngestObserver,
    private readonly config: () => IngestConfig,
  ) {}

  parsed(result: ParsedResult): void {
    const {lineage, relPath} = result
    const cacheUsed = this.config().features['parse-cache']
    if (result.contentHash.startsWith('failed:')) {
      // The worker died or timed out, so nothing wrote the output: record why here.
      writeOutputRecord(outputFileFor(this.config().outDir, relPath), {
        contentHash: result.contentHash,
        size: result.size,
        lineage,
      })
    }
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
        this.logger.warn(`${relPath}: ${errors.length} statement(s) failed, the others ingested`, {
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

  private logOnce(relPath: string, signature: string, log: () => void): void {
    if (this.lastFailure.get(relPath) === signature) return
    this.lastFailure.set(relPath, signature)
    log()
  }
}
