/**
 * Batches that failed as a whole: not a bad file (those are counted per file) but a ledger or state write
 * refused (a full state disk), or a bug. Each is logged on one line (a stack only for what is not a
 * LineageError, whose message already names the path and the reason) and counted, so `watch --once` can exit
 * non-zero and say why. None of such a batch reached the ledger: its files are `due`, queued again by the
 * running service (catch-up.ts) until a batch with them goes through, and ingested again at the next start
 * anyway. Until a batch goes through, `problem` says what is wrong (/healthz degraded).
 */
import {errorMessage, isLineageError} from '../errors.js'
import type {Logger} from '../logger.js'

export class BatchErrors {
  count = 0
  /** The first failure's line, for the summary. */
  first: string | null = null
  /** The last failure's line, until a batch goes through. */
  private last: string | undefined
  private readonly duePaths = new Set<string>()

  constructor(private readonly logger: Logger) {}

  record(paths: readonly string[], error: unknown): void {
    const message = `batch of ${paths.length} file(s) failed: ${errorMessage(error)}`
    this.count++
    this.first ??= message
    this.last = message
    for (const p of paths) this.duePaths.add(p)
    this.logger.error(message, isLineageError(error) ? undefined : {stack: (error as Error).stack})
  }

  /** A batch went through: its files are no longer due, and batches work again. */
  succeeded(paths: Iterable<string>): void {
    this.last = undefined
    for (const p of paths) this.duePaths.delete(p)
  }

  /** The files of failed batches not ingested since, to be queued again. */
  due(): string[] {
    return [...this.duePaths]
  }

  /** What is wrong now, for /healthz; undefined once a batch has gone through since the last failure. */
  get problem(): string | undefined {
    return this.last
  }
}
