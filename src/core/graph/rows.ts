/**
 * The rows the Cypher of graph/cypher.ts takes, built from the rows of whole files (graph/model): for the
 * batched writer, the rows of several files merged into one set per query (`batchRows`); for the baseline, the
 * rows of one file as its one-entity queries take them (`singleRows`). Pure: no I/O, no driver; throws nothing.
 * Nodes come sorted by key, so concurrent writers take their locks in one order.
 */
import {createHash} from 'node:crypto'

import type {BatchQuery, EntityQuery} from './cypher.js'
import type {KnownNodes} from './known-nodes.js'
import type {DerivesRow, FileRows, StatementRow, StatementTableRow} from './model.js'

interface TableNode {
  key: string
  name: string
}
interface ColumnNode {
  key: string
  id: string
  name: string
  tableKey: string
}
interface LooseColumn {
  key: string
  id: string
  name: string
}

/** The values of a map of nodes, sorted by key (a stable lock order). */
export const byKey = <T extends {key: string}>(m: Map<string, T>): T[] =>
  [...m.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))

/** A statement row with the fingerprint the Statement node keeps (`fingerprint`). */
export interface FingerprintedStatement extends StatementRow {
  fingerprint: string
}

/**
 * Each statement of a file with a fingerprint of everything it puts in the graph: its properties, its READS and
 * WRITES (with `written`) and the DERIVES_FROM it makes. Two statements of one id with one fingerprint write the
 * same nodes and relationships, which is what lets the batched writer keep a statement the graph already holds
 * instead of deleting and creating it again (batch-writer). Computed here from the rows, never read from the
 * failed-ingestion file, so an edited entry cannot claim a fingerprint its rows do not have.
 */
export function withFingerprints(rows: FileRows): FingerprintedStatement[] {
  const parts = new Map<string, unknown[][]>()
  const add = (id: string, part: unknown[]): void => {
    const list = parts.get(id)
    if (list) list.push(part)
    else parts.set(id, [part])
  }
  for (const r of rows.reads) add(r.statementId, ['R', r.tableKey, r.written ?? null])
  for (const r of rows.writes) add(r.statementId, ['W', r.tableKey, r.written ?? null])
  for (const d of rows.tableDerives) add(d.statementId, ['T', d.targetKey, d.sourceKey])
  for (const d of rows.columnDerives) add(d.statementId, ['C', d.targetKey, d.sourceKey])
  return rows.statements.map((st) => {
    const edges = (parts.get(st.id) ?? []).map((p) => JSON.stringify(p)).sort()
    const fields = [st.index, st.kind, st.line, st.status, st.columnKeys, st.unresolvedColumns, edges]
    return {...st, fingerprint: createHash('sha256').update(JSON.stringify(fields)).digest('base64url')}
  })
}

/** The `$rows` of each of BATCH_QUERIES. */
export interface BatchRows extends Record<BatchQuery, unknown[]> {
  files: FileRows['file'][]
  statements: FingerprintedStatement[]
  tables: TableNode[]
  columns: ColumnNode[]
  looseColumns: LooseColumn[]
  contains: {path: string; id: string}[]
  reads: StatementTableRow[]
  writes: StatementTableRow[]
  tableDerives: DerivesRow[]
  columnDerives: DerivesRow[]
}

/**
 * The rows of several files for BATCH_QUERIES: nodes deduplicated and sorted by key (a stable lock order),
 * relationships as keys.
 */
export function batchRows(all: readonly FileRows[]): BatchRows {
  const nodes = batchNodes(all)
  return {
    files: all.map((rows) => rows.file),
    statements: all.flatMap(withFingerprints),
    tables: byKey(nodes.tables),
    columns: byKey(nodes.columns),
    looseColumns: byKey(nodes.loose),
    contains: all.flatMap((rows) => rows.statements.map((s) => ({path: rows.file.path, id: s.id}))),
    reads: all.flatMap((r) => r.reads),
    writes: all.flatMap((r) => r.writes),
    tableDerives: all.flatMap((r) => r.tableDerives),
    columnDerives: all.flatMap((r) => r.columnDerives),
  }
}

/**
 * The rows without the statements `kept` (ids the graph holds with the same fingerprint: left as they are), their
 * relationships, and the nodes only they name (those exist: a statement's tables and columns are not orphans
 * while it references them).
 */
export function withoutKept(rows: BatchRows, kept: ReadonlySet<string>): BatchRows {
  if (kept.size === 0) return rows
  const bySt = <T extends {statementId: string}>(list: T[]): T[] => list.filter((r) => !kept.has(r.statementId))
  const statements = rows.statements.filter((s) => !kept.has(s.id))
  const out: BatchRows = {
    ...rows,
    statements,
    contains: rows.contains.filter((c) => !kept.has(c.id)),
    reads: bySt(rows.reads),
    writes: bySt(rows.writes),
    tableDerives: bySt(rows.tableDerives),
    columnDerives: bySt(rows.columnDerives),
  }
  const columns = derivedColumns(out)
  for (const st of statements) for (const k of st.columnKeys) columns.add(k)
  out.columns = rows.columns.filter((c) => columns.has(c.key))
  out.looseColumns = rows.looseColumns.filter((c) => columns.has(c.key))
  const tables = relatedTables(out, out.columns)
  out.tables = rows.tables.filter((t) => tables.has(t.key))
  return out
}

/** The columns at either end of the rows' column DERIVES_FROM. */
function derivedColumns(rows: BatchRows): Set<string> {
  const keys = new Set<string>()
  for (const d of rows.columnDerives) {
    keys.add(d.targetKey)
    keys.add(d.sourceKey)
  }
  return keys
}

/** The tables the rows' READS, WRITES and table DERIVES_FROM name, and the tables of `columns`. */
function relatedTables(rows: BatchRows, columns: readonly ColumnNode[]): Set<string> {
  const keys = new Set<string>()
  for (const r of rows.reads) keys.add(r.tableKey)
  for (const r of rows.writes) keys.add(r.tableKey)
  for (const d of rows.tableDerives) {
    keys.add(d.targetKey)
    keys.add(d.sourceKey)
  }
  for (const c of columns) keys.add(c.tableKey)
  return keys
}

/**
 * The rows without the Table and Column nodes `known` says the graph holds, where a relationship row of the same
 * transaction MATCHes them (so a node deleted meanwhile makes that query's count short; graph/known-nodes).
 */
export function withoutKnown(rows: BatchRows, known: KnownNodes): BatchRows {
  if (known.size === 0) return rows
  const matchedColumns = derivedColumns(rows)
  const columns = rows.columns.filter((c) => !(known.hasColumn(c.key) && matchedColumns.has(c.key)))
  const matchedTables = relatedTables(rows, columns)
  const tables = rows.tables.filter((t) => !(known.hasTable(t.key) && matchedTables.has(t.key)))
  return {...rows, tables, columns}
}

/**
 * The Table and Column nodes of several files, each once. An endpoint that no node row names (possible only
 * in rows from elsewhere, such as an old failed-ingestion file) is created as the baseline's MERGE would create
 * it: named by its key, and a column without a table (`loose`).
 */
function batchNodes(all: readonly FileRows[]): {
  tables: Map<string, TableNode>
  columns: Map<string, ColumnNode>
  loose: Map<string, LooseColumn>
} {
  const tables = new Map<string, TableNode>()
  const columns = new Map<string, ColumnNode>()
  const loose = new Map<string, LooseColumn>()
  for (const rows of all) {
    for (const t of rows.tables) tables.set(t.key, t)
    for (const c of rows.columns) columns.set(c.key, c)
  }
  const table = (key: string): void => {
    if (!tables.has(key)) tables.set(key, {key, name: key})
  }
  const column = (key: string): void => {
    if (!columns.has(key) && !loose.has(key)) loose.set(key, {key, id: key, name: key})
  }
  for (const rows of all) {
    for (const r of [...rows.reads, ...rows.writes]) table(r.tableKey)
    for (const d of rows.tableDerives) [d.targetKey, d.sourceKey].forEach(table)
    for (const d of rows.columnDerives) [d.targetKey, d.sourceKey].forEach(column)
  }
  for (const c of columns.values()) table(c.tableKey)
  return {tables, columns, loose}
}

/** The rows of one file as the one-entity queries take them: nodes sorted by key, relationship endpoints named. */
export function singleRows(rows: FileRows): Record<Exclude<EntityQuery, 'files'>, unknown[]> {
  const tables = new Map(rows.tables.map((t) => [t.key, t]))
  const columns = new Map(rows.columns.map((c) => [c.key, c]))
  const tableName = (key: string): string => tables.get(key)?.name ?? key
  const column = (key: string): {id: string; name: string} => columns.get(key) ?? {id: key, name: key}
  return {
    statements: withFingerprints(rows),
    tables: byKey(tables),
    columns: byKey(columns),
    contains: rows.statements.map((s) => ({path: rows.file.path, id: s.id})),
    reads: rows.reads.map((x) => ({...x, name: tableName(x.tableKey)})),
    writes: rows.writes.map((x) => ({...x, name: tableName(x.tableKey)})),
    hasColumn: byKey(columns).map((c) => ({...c, tableName: tableName(c.tableKey)})),
    tableDerives: rows.tableDerives.map((d) => ({
      ...d,
      target: {name: tableName(d.targetKey)},
      source: {name: tableName(d.sourceKey)},
    })),
    columnDerives: rows.columnDerives.map((d) => ({...d, target: column(d.targetKey), source: column(d.sourceKey)})),
  }
}
