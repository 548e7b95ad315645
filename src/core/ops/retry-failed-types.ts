/** The types of `retryFailed` (ops/retry-failed.ts): what it needs of the graph writer, its options, its result. */
import type {FileState, PreparedResult} from '../graph/writer.js'
import type {Logger} from '../logger.js'
import type {PreparedOp} from '../graph/model.js'
import type {SkipReason} from './replay-plan.js'

export type {SkipReason} from './replay-plan.js'

/** The part of GraphWriter a replay uses. */
export interface ReplayWriter {
  applyPrepared(items: PreparedOp[], options: {batched: boolean; skipNewer?: boolean}): Promise<PreparedResult>
  fileStates(paths: string[], namespace: string): Promise<Map<string, FileState>>
  removeOrphans(tableKeys: Iterable<string>, columnKeys: Iterable<string>): Promise<void>
  close(): Promise<void>
}

export interface RetryFailedOptions {
  file: string
  /** The namespace entries recorded without one (written before namespaces) replay into. */
  namespace: string
  openWriter: () => Promise<ReplayWriter>
  batched: boolean
  /** Entries per replay chunk; the file is rewritten after each committed chunk. */
  batchSize: number
  dryRun: boolean
  logger: Logger
  clock?: () => Date
  /** Rewrite at most this often (ms) between chunks; the last rewrite always happens. */
  rewriteIntervalMs?: number
}

export interface RetryFailedResult {
  file: string
  dryRun: boolean
  /** Entries (valid lines) read. */
  entries: number
  replayed: number
  skipped: number
  skippedBy: Record<SkipReason, number>
  stillFailing: number
  /** Not tried because Neo4j went away during the replay. */
  notAttempted: number
  invalid: number
  /** Line numbers of the invalid lines, and why. */
  invalidLines: {line: number; reason: string}[]
  /** Invalid lines moved out of the file into `quarantineFile` by this run (none in a dry run). */
  quarantined: number
  quarantineFile: string
  /** Lines a running service appended during the replay (kept for the next run). */
  appended: number
  /** Lines left in the file. */
  remaining: number
  /** absent: there was no file; removed: everything went in; rewritten; unchanged (dry run, or nothing done). */
  fileState: 'absent' | 'removed' | 'rewritten' | 'unchanged'
  errors: string[]
}
