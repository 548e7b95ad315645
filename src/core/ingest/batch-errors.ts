/**
 * Batches that failed as a whole: not a bad file (those are counted per file) but a ledger or state write
 * refused, or a bug. Each is logged on one line (a stack only for what is not a LineageError, whose message
 * already names the path and the reason) and counted, so `watch --once` can exit non-zero and say why. None of
 * such a batch reached the ledger, so the next start ingests its files again.
 */
import {errorMessage, isLineageError} from '../errors.js'
import type {Logger} from '../logger.js'

export class BatchErrors {
  count = 0
  /** The first failure's line, for the summary. */
  first: string | null = null

  constructor(private readonly logger: Logger) {}

  record(size: number, error: unknown): void {
    const message = `batch of ${size} file(s) failed: ${errorMessage(error)}`
    this.count++
    this.first ??= message
    this.logger.error(message, isLineageError(error) ? undefined : {stack: (error as Error).stack})
  }
}
