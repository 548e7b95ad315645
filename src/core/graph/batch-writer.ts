/**
 * The batched writer (FEATURE_NEO4J_BATCH): one UNWIND transaction per group of whole files of one namespace
 * (graph/cypher: SqlFile, Statement and DERIVES_FROM are keyed by it). A file's rows are never split over two
 * transactions, so a file is all in or all out; inside a transaction the group's SqlFile nodes are locked
 * first (REPLACE.lock: two writers of one path, in any processes, run one after the other), then the old rows
 * of the group's paths go (graph/replace), then the BATCH_QUERIES in BATCH_ORDER (nodes before
 * relationships), then the orphan clean-up. A group that fails for a reason other than connectivity is split
 * so each file is tried alone, isolating a poisoned file; a connectivity failure fails the whole group at once
 * (every file would meet the same outage). Never throws for Neo4j's sake: failures come back in `failed`.
 */
import type {ManagedTransaction} from 'neo4j-driver'

import type {Logger} from '../logger.js'
import {BATCH_ORDER, BATCH_QUERIES, COUNTED_BATCH_QUERIES, REPLACE} from './cypher.js'
import type {KnownNodes} from './known-nodes.js'
import {entityCount, type PreparedOp} from './model.js'
import {cleanOrphans, deleteOld} from './replace.js'
import {type BatchRows, batchRows, withoutKept, withoutKnown} from './rows.js'
import type {Row, Transactions} from './transactions.js'
import type {WriteFailure, WriteOutcome, WriterStats} from './types.js'

/**
 * Measured on Neo4j 5.26 (2 cores, 300 generated files of ~650 entities): 10k-20k entities per transaction
 * write ~40-45k rows/s fresh and ~23-29k rows/s when replacing; 1k-2.5k lose ~20% on fresh writes, 50k
 * halves the replacement rate (bigger deletes to commit). 10k keeps the locks and the rollback small.
 * Rows per UNWIND statement made no measurable difference between 1k and 5k.
 * Re-measured with the batched queries (Neo4j CPU per 300 files of ~1,000 entities, fresh/replace):
 * 2.5k 4.9/6.8 s, 10k 4.1-4.4/6.1-6.7 s, 25k 4.3-4.5/7.6-8.0 s, 60k 4.5-4.6/9.3-9.4 s; rows per query
 * 500, 2.5k and 10k within noise. 10k stays.
 */
export const DEFAULT_MAX_ENTITIES_PER_TX = 10_000

export interface BatchContext {
  txs: Transactions
  stats: WriterStats
  logger: Logger
  /** Start a new transaction once a group holds this many entities (whole files). */
  maxEntitiesPerTx: number
  describe: (error: unknown) => WriteFailure
  /**
   * Leave out, as superseded, an item whose path the graph holds from a write newer than the item's `time`,
   * read under the path lock (a replay must not put an old version over one written since it looked).
   */
  skipNewer: boolean
  /** Nodes written before, left out of the rows (graph/known-nodes); learns what each commit wrote. */
  known: KnownNodes
}

/**
 * A relationship query found fewer endpoints than it had rows: a node taken as known was deleted meanwhile
 * (by another process), or, with nothing left out, an endpoint vanished under the transaction.
 */
class EndpointsMissing extends Error {
  constructor(query: string, sent: number, created: number) {
    super(`Neo4j write: ${query} created ${created} of ${sent} relationships (an endpoint node is missing)`)
  }
}

const entities = (item: PreparedOp): number => (item.op === 'upsert' ? entityCount(item.rows) : 1)

/** The items of each namespace, in their order: a transaction writes one namespace (`$namespace`). */
export function byNamespace(items: readonly PreparedOp[]): PreparedOp[][] {
  const out = new Map<string, PreparedOp[]>()
  for (const item of items) {
    const list = out.get(item.namespace)
    if (list) list.push(item)
    else out.set(item.namespace, [item])
  }
  return [...out.values()]
}

/** Whole files in groups of at most `max` entities (a file larger than that is a group of its own). */
export function groups(items: readonly PreparedOp[], max: number): PreparedOp[][] {
  const out: PreparedOp[][] = []
  let current: PreparedOp[] = []
  let size = 0
  for (const item of items) {
    const n = entities(item)
    if (current.length > 0 && size + n > max) {
      out.push(current)
      current = []
      size = 0
    }
    current.push(item)
    size += n
  }
  if (current.length > 0) out.push(current)
  return out
}

export async function writeBatched(items: readonly PreparedOp[], ctx: BatchContext): Promise<WriteOutcome> {
  const outcome: WriteOutcome = {written: [], failed: [], superseded: []}
  for (const same of byNamespace(items)) {
    for (const group of groups(same, ctx.maxEntitiesPerTx)) add(outcome, await writeGroup(group, ctx))
  }
  return outcome
}

function add(into: WriteOutcome, one: WriteOutcome): void {
  for (const w of one.written) into.written.push(w)
  for (const f of one.failed) into.failed.push(f)
  for (const s of one.superseded ?? []) into.superseded?.push(s)
}

/**
 * One transaction for a group of items of one namespace. With `useKnown`, nodes written before are left out;
 * when that turns out wrong (EndpointsMissing), the hints are dropped and the group is written again in full.
 */
async function writeGroup(group: PreparedOp[], ctx: BatchContext, useKnown = true): Promise<WriteOutcome> {
  let todo = group
  let rows: BatchRows | undefined
  const params = {namespace: group[0]?.namespace ?? ''}
  try {
    // The work function may run more than once (the driver's retries): it keeps only `todo` and `rows`, set
    // anew by every attempt.
    await ctx.txs.write(async (tx) => {
      // First: no other transaction writes these paths until this one ends (graph/cypher says why).
      const locked = await ctx.txs.unwind(tx, REPLACE.lock, lockOrder(group.map((i) => i.path)), params)
      todo = ctx.skipNewer ? notSuperseded(group, locked) : group
      const paths = todo.map((i) => i.path)
      const retracted = todo.filter((i) => i.op === 'retract').map((i) => i.path)
      rows = batchRows(todo.flatMap((i) => (i.op === 'upsert' ? [i.rows] : [])))
      // Only a completed write's statements can be kept: one the baseline stopped half way has its statements
      // (fingerprints and all) without their relationships.
      const sealed = new Set(locked.filter((r) => r.sealed === true).map((r) => r.path))
      const upserted = todo.filter((i) => i.op === 'upsert' && sealed.has(i.path)).map((i) => i.path)
      const kept = await keptStatements(ctx.txs, tx, params, upserted, rows)
      const changed = withoutKept(rows, kept)
      const send = useKnown ? withoutKnown(changed, ctx.known) : changed
      const candidates = (await deleteOld(ctx.txs, tx, params.namespace, paths, [...kept])).without(rows)
      await ctx.txs.unwind(tx, REPLACE.deleteFiles, retracted, params)
      for (const name of BATCH_ORDER) {
        const out = await ctx.txs.unwind(tx, BATCH_QUERIES[name], send[name], params)
        if (!COUNTED_BATCH_QUERIES.has(name)) continue
        const created = out.reduce((n, r) => n + (typeof r.n === 'number' ? r.n : 0), 0)
        if (created !== send[name].length) throw new EndpointsMissing(name, send[name].length, created)
      }
      await cleanOrphans(ctx.txs, tx, candidates, ctx.known)
    })
    if (rows) {
      ctx.known.remember(
        rows.tables.map((t) => t.key),
        rows.columns.map((c) => c.key),
      )
    }
    ctx.stats.entities += todo.reduce((n, i) => n + (i.op === 'upsert' ? entityCount(i.rows) : 0), 0)
    const kept = new Set(todo)
    return {written: todo, failed: [], superseded: group.filter((i) => !kept.has(i))}
  } catch (error) {
    if (error instanceof EndpointsMissing && useKnown && ctx.known.size > 0) {
      ctx.logger.debug(`${error.message}; writing the batch again with every node`)
      ctx.known.clear()
      return writeGroup(group, ctx, false)
    }
    const failure = ctx.describe(error)
    if (failure.connectivity || group.length === 1) {
      return {written: [], failed: group.map((item) => ({item, code: failure.code, error: failure.error}))}
    }
    ctx.logger.warn(`a batch of ${group.length} files failed (${failure.error}); writing each alone`)
    const outcome: WriteOutcome = {written: [], failed: [], superseded: []}
    for (const item of group) add(outcome, await writeGroup([item], ctx, useKnown))
    return outcome
  }
}

/**
 * The statements of `paths` (whose last write completed) the graph already holds exactly as `rows` would write
 * them: same id, same fingerprint (graph/rows withFingerprints). A file written again unchanged (a
 * `--reingest`, a new release whose lineage is the same) then costs its SqlFile and nothing else; an edit costs
 * the statements it changed or moved (line and index are part of the fingerprint).
 */
async function keptStatements(
  txs: Transactions,
  tx: ManagedTransaction,
  params: {namespace: string},
  paths: string[],
  rows: BatchRows,
): Promise<Set<string>> {
  const kept = new Set<string>()
  if (paths.length === 0) return kept
  const wanted = new Map(rows.statements.map((s) => [s.id, s.fingerprint]))
  for (const r of await txs.unwind(tx, REPLACE.fingerprints, paths, params)) {
    if (typeof r.id === 'string' && typeof r.fingerprint === 'string' && wanted.get(r.id) === r.fingerprint) {
      kept.add(r.id)
    }
  }
  return kept
}

/** The paths to lock, deduplicated and in one order for every writer, so two groups never lock crosswise. */
export function lockOrder(paths: readonly string[]): string[] {
  return [...new Set(paths)].sort()
}

/**
 * The items the graph holds no newer write of, by what the lock read: a path's SqlFile ingested after the
 * item's time. A path the graph does not hold (never written, or retracted since) does not stop an item.
 */
function notSuperseded(group: PreparedOp[], locked: Row[]): PreparedOp[] {
  const ingested = new Map(locked.map((r) => [r.path, typeof r.ingestedAt === 'string' ? ms(r.ingestedAt) : 0]))
  return group.filter((i) => (ingested.get(i.path) ?? 0) <= ms(i.time))
}

/** An ISO time in ms; 0 for a time that does not parse (it orders first). */
const ms = (iso: string): number => {
  const t = Date.parse(iso)
  return Number.isNaN(t) ? 0 : t
}
