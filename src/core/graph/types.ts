/**
 * The shapes GraphWriter takes and gives back, shared by its pieces (writer, batch-writer, single-writer,
 * transactions) and re-exported by graph/writer. Types only; no code, throws nothing.
 */
import type {GraphOp, PreparedOp} from './model.js'

export interface Neo4jConnection {
  uri: string
  user: string
  password: string
  database: string | undefined
}

export interface GraphFailure {
  op: GraphOp
  /** The namespace the op was written in (recorded with it in the failed-ingestion file). */
  namespace: string
  code: string
  error: string
}
export interface ApplyResult {
  written: GraphOp[]
  failed: GraphFailure[]
  transactions: number
}
export interface PreparedFailure {
  item: PreparedOp
  code: string
  error: string
}
export interface PreparedResult {
  written: PreparedOp[]
  failed: PreparedFailure[]
  /** Left out because the graph held a newer write of the path (only with `skipNewer`). */
  superseded?: PreparedOp[]
  transactions: number
}

/** What the graph holds for one path. */
export interface FileState {
  path: string
  exists: boolean
  contentHash: string | null
  ingestedAt: string | null
  statements: number
}

/**
 * Counters since connect. `transactions` counts every attempt of a write transaction that got as far as
 * running (the driver's retries included), `retries` those beyond the first of each write, `entities` the
 * nodes and relationships written, `failures` the ops that failed.
 */
export interface WriterStats {
  transactions: number
  entities: number
  retries: number
  failures: number
}

/** Why a write failed, told apart for the failed-ingestion file: Neo4j unreachable, or refusing the write. */
export interface WriteFailure {
  code: 'E_NEO4J_UNAVAILABLE' | 'E_NEO4J_WRITE'
  error: string
  connectivity: boolean
}

/** What one writer run gives back; the facade adds the transaction count. */
export interface WriteOutcome {
  written: PreparedOp[]
  failed: PreparedFailure[]
  superseded?: PreparedOp[]
}
