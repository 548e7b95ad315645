/**
 * The one-by-one writer (the baseline, FEATURE_NEO4J_BATCH off): per op, one transaction for the replacement
 * delete (which also unseals the SqlFile, or deletes it for a retraction) and the orphan clean-up, then one
 * transaction per node and per relationship (ENTITY_ORDER: nodes before relationships), and the SqlFile node
 * with its contentHash last, so a SqlFile carrying a contentHash proves the file's write completed. An op
 * stopped half way (Neo4j gone) is left unsealed, and its replay replaces it. Never throws for Neo4j's sake:
 * a failure comes back in `failed`.
 */
import {ENTITY_ORDER, ENTITY_QUERIES, type EntityQuery, REPLACE} from './cypher.js'
import type {KnownNodes} from './known-nodes.js'
import type {PreparedOp} from './model.js'
import {cleanOrphans, deleteOld} from './replace.js'
import {singleRows} from './rows.js'
import type {Transactions} from './transactions.js'
import type {WriteFailure, WriteOutcome, WriterStats} from './types.js'

export interface SingleContext {
  txs: Transactions
  stats: WriterStats
  describe: (error: unknown) => WriteFailure
  /** Told what the orphan clean-up deletes (the batched writer's hints; graph/known-nodes). */
  known: KnownNodes
}

export async function writeOneByOne(items: readonly PreparedOp[], ctx: SingleContext): Promise<WriteOutcome> {
  const outcome: WriteOutcome = {written: [], failed: []}
  for (const item of items) {
    try {
      await writeItem(item, ctx)
      outcome.written.push(item)
    } catch (error) {
      const failure = ctx.describe(error)
      outcome.failed.push({item, code: failure.code, error: failure.error})
    }
  }
  return outcome
}

async function writeItem(item: PreparedOp, ctx: SingleContext): Promise<void> {
  const {namespace} = item
  await ctx.txs.write(async (tx) => {
    const candidates = await deleteOld(ctx.txs, tx, namespace, [item.path])
    const query = item.op === 'retract' ? REPLACE.deleteFiles : REPLACE.unsealFiles
    await ctx.txs.unwind(tx, query, [item.path], {namespace})
    await cleanOrphans(ctx.txs, tx, candidates, ctx.known)
  })
  if (item.op === 'retract') return
  const rows = singleRows(item.rows)
  for (const name of ENTITY_ORDER) {
    for (const row of rows[name]) await writeEntity(name, row, namespace, ctx)
  }
  await writeEntity('files', item.rows.file, namespace, ctx)
}

async function writeEntity(name: EntityQuery, row: unknown, namespace: string, ctx: SingleContext): Promise<void> {
  await ctx.txs.write(async (tx) => {
    await ctx.txs.unwind(tx, ENTITY_QUERIES[name], [row], {namespace})
  })
  ctx.stats.entities++
}
