/**
 * What both writers do inside a transaction around the new rows: take out what the paths (of one namespace)
 * produced before (their statements and the DERIVES_FROM edges those made), and afterwards delete the Table
 * and Column nodes that this left unreferenced by any namespace. Runs in the caller's transaction; throws what
 * the driver throws.
 */
import type {ManagedTransaction} from 'neo4j-driver'

import {ORPHANS, REPLACE} from './cypher.js'
import type {KnownNodes} from './known-nodes.js'
import type {Transactions} from './transactions.js'

interface Keyed {
  key: string
}

/** Table and Column keys that may be orphans once a transaction's deletes are done. */
export class Candidates {
  readonly tables = new Set<string>()
  readonly columns = new Set<string>()

  /**
   * Leave out nodes the same transaction writes relationships or statements to: they are referenced when it
   * commits, so checking them is wasted work (on a file written again unchanged, every one of its nodes).
   */
  without(nodes: {tables: readonly Keyed[]; columns: readonly Keyed[]; looseColumns: readonly Keyed[]}): this {
    for (const t of nodes.tables) this.tables.delete(t.key)
    for (const c of nodes.columns) this.columns.delete(c.key)
    for (const c of nodes.looseColumns) this.columns.delete(c.key)
    return this
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [])
const string = (v: unknown): string[] => (typeof v === 'string' ? [v] : [])

/**
 * Delete what these paths of `namespace` produced before, except the statements `kept` (and the DERIVES_FROM
 * they made); returns the Table and Column nodes that may now be orphans.
 */
export async function deleteOld(
  txs: Transactions,
  tx: ManagedTransaction,
  namespace: string,
  paths: string[],
  kept: readonly string[] = [],
): Promise<Candidates> {
  const c = new Candidates()
  const params = {namespace, kept}
  for (const r of await txs.unwind(tx, REPLACE.deleteDerives, paths, params)) {
    const set = r.isTable === true ? c.tables : c.columns
    for (const k of [...string(r.a), ...string(r.b)]) set.add(k)
  }
  for (const r of await txs.unwind(tx, REPLACE.deleteStatements, paths, params)) {
    for (const k of strings(r.tables)) c.tables.add(k)
    for (const k of strings(r.columns)) c.columns.add(k)
  }
  return c
}

/**
 * Delete the candidates nothing references any more. A column without DERIVES_FROM is still alive while a
 * statement names it in `columnKeys`; a table is alive while any relationship touches it (its columns too).
 * What is deleted is forgotten by `known` at once (forgetting early is always safe; graph/known-nodes).
 */
export async function cleanOrphans(
  txs: Transactions,
  tx: ManagedTransaction,
  c: Candidates,
  known: KnownNodes,
): Promise<void> {
  const deriveless = (await txs.unwind(tx, ORPHANS.derivelessColumns, [...c.columns])).flatMap((r) => string(r.k))
  if (deriveless.length > 0) {
    const {records} = await tx.run(ORPHANS.liveColumns, {keys: deriveless})
    const live = new Set(records.flatMap((r) => string(r.get('k'))))
    const dead = deriveless.filter((k) => !live.has(k))
    known.forget([], dead)
    for (const r of await txs.unwind(tx, ORPHANS.deleteColumns, dead)) {
      for (const k of strings(r.tables)) c.tables.add(k)
    }
  }
  const deleted = await txs.unwind(tx, ORPHANS.deleteTables, [...c.tables])
  known.forget(
    deleted.flatMap((r) => string(r.k)),
    [],
  )
}
