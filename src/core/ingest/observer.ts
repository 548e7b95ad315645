/**
 * What the ingestor reports as it goes, to whoever observes it: the service's Prometheus metrics, and a
 * program embedding the core (the bench measures latency and where files were parsed through it; tests
 * assert on it). Every method is optional and must not throw; the ingestor calls them synchronously.
 */
import type {FileLineage, FileStatus} from '../types.js'
import type {LedgerRow} from './ledger.js'

export interface IngestObserver {
  /** A file's parse begins: on the main thread or in a pool worker, with `running` parses now in flight. */
  parseStarted?(e: {relPath: string; thread: 'main' | 'worker'; running: number}): void
  /**
   * A file was parsed (or found in the parse cache: `cacheHit`; `cacheUsed` false when the cache is off), with
   * its lineage when the reporter has it (the metrics count degraded statements, the log names tables and lines).
   */
  fileParsed?(e: {
    relPath: string
    statements: number
    status: FileStatus
    cacheHit: boolean
    cacheUsed: boolean
    lineage?: FileLineage
  }): void
  /** A file failed: unreadable (`parsed` false), or parsed with no statement usable. */
  fileFailed?(e: {relPath: string; code: string; parsed: boolean}): void
  /**
   * A file event is done and in the ledger: the row written (null: the file was removed, its row deleted), and
   * the time from the event to now. Events whose outcome could not be recorded at all are not reported (the
   * next start ingests them again).
   */
  fileRecorded?(e: {relPath: string; row: LedgerRow | null; latencyMs: number}): void
  /** One graph write call: its duration, transactions (attempts included) and the files that failed. */
  graphWritten?(e: {seconds: number; transactions: number; failures: number}): void
  /** A batch is done: parsed, written and recorded. */
  batchDone?(e: {files: number; seconds: number}): void
}

/** One observer that passes every report on to each of `observers`, in order. */
export function combineObservers(...observers: (IngestObserver | undefined)[]): IngestObserver {
  const all = observers.filter((o): o is IngestObserver => o !== undefined)
  return {
    parseStarted: (e) => {
      for (const o of all) o.parseStarted?.(e)
    },
    fileParsed: (e) => {
      for (const o of all) o.fileParsed?.(e)
    },
    fileFailed: (e) => {
      for (const o of all) o.fileFailed?.(e)
    },
    fileRecorded: (e) => {
      for (const o of all) o.fileRecorded?.(e)
    },
    graphWritten: (e) => {
      for (const o of all) o.graphWritten?.(e)
    },
    batchDone: (e) => {
      for (const o of all) o.batchDone?.(e)
    },
  }
}
