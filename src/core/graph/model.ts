/**
 * The graph rows of one SQL file: a pure mapping of FileLineage onto the nodes and relationships that
 * GraphWriter writes, and the same rows as the failed-ingestion file stores them (so a replay needs neither
 * the parser nor the SQL file; ingest/failed-entry.ts parses them back). No I/O; throws nothing except on a
 * programming error.
 *
 *   (:SqlFile {namespace, path, contentHash, dialect, ingestedAt, incomplete?})
 *     -[:CONTAINS]->(:Statement {namespace, id, index, kind, line, ...})
 *   (:Statement)-[:READS {written}]->(:Table {name, key})       (:Statement)-[:WRITES {written}]->(:Table)
 *   (:Table)-[:HAS_COLUMN]->(:Column {id, name, key})
 *   (target:Table)-[:DERIVES_FROM {namespace, statementId}]->(source:Table)   one per source x target of a statement
 *   (target:Column)-[:DERIVES_FROM {namespace, statementId}]->(source:Column)
 *
 * The rows here are those of one file, without its namespace: the writer adds it (`namespace` of a PreparedOp,
 * graph/cypher says how it keys SqlFile, Statement and DERIVES_FROM); Table and Column are shared by all.
 *
 * `key` is the identity of Table and Column nodes (the uniqueness constraint is on it): the name or id itself,
 * unless its UTF-8 form is longer than KEY_MAX_BYTES, in which case it is `sha256:<hex>` of it. Neo4j cannot
 * index a string over about 8 KB, and a 10k-character table name must still be stored verbatim in `name`.
 * A statement also keeps `columnKeys` (every column its lineage names, so a replacement can find them) and
 * `unresolvedColumns` (JSON pairs `[target, source]` whose table is unknown, `?.col`), so nothing is lost.
 * A table's name is the resolved one (the dialect's case, the default database and schema); READS and WRITES
 * keep the name as that statement wrote it in `written`.
 */
import {createHash} from 'node:crypto'

import type {FileLineage, StatementLineage} from '../types.js'

export interface GraphUpsert {
  op: 'upsert'
  path: string
  contentHash: string
  dialect: string
  ingestedAt: string
  lineage: FileLineage
}
export interface GraphRetract {
  op: 'retract'
  path: string
  at: string
}
export type GraphOp = GraphUpsert | GraphRetract

export interface SqlFileRow {
  path: string
  contentHash: string
  dialect: string
  ingestedAt: string
  /** The parse ran out of time (FileLineage.incomplete): not final, parsed again; absent when complete. */
  incomplete?: true
}
export interface StatementRow {
  id: string
  index: number
  kind: string
  line: number
  status: string
  columnKeys: string[]
  unresolvedColumns: string[]
}
export interface TableRow {
  key: string
  name: string
}
/** One Column node and its HAS_COLUMN relationship from its table. */
export interface ColumnRow {
  key: string
  id: string
  name: string
  tableKey: string
}
/** READS or WRITES. */
export interface StatementTableRow {
  statementId: string
  tableKey: string
  /**
   * The table's name as the statement writes it (StatementLineage.written: `Orders` for a table resolved to
   * `sales.orders`), else its name. Absent only in rows written by an older release.
   */
  written?: string
}
export interface DerivesRow {
  statementId: string
  targetKey: string
  sourceKey: string
}

/** Everything one file puts in the graph. CONTAINS is one relationship per statement, HAS_COLUMN one per column. */
export interface FileRows {
  file: SqlFileRow
  statements: StatementRow[]
  tables: TableRow[]
  columns: ColumnRow[]
  reads: StatementTableRow[]
  writes: StatementTableRow[]
  tableDerives: DerivesRow[]
  columnDerives: DerivesRow[]
}

/**
 * An op ready for the writer: an upsert as rows, a retraction as its path, in the namespace the path belongs
 * to. `time` orders ops of one path.
 */
export type PreparedOp =
  | {op: 'upsert'; namespace: string; path: string; time: string; rows: FileRows}
  | {op: 'retract'; namespace: string; path: string; time: string}

export const KEY_MAX_BYTES = 4000

/** The identity key of a Table or Column node (see the module comment). */
export function nodeKey(value: string): string {
  if (Buffer.byteLength(value, 'utf8') <= KEY_MAX_BYTES) return value
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`
}

export function statementId(path: string, index: number): string {
  return `${path}#${index}`
}

/** `table.column` split at the last dot; null for `?.col` and for a name without a table. */
export function splitColumn(qualified: string): {table: string; column: string} | null {
  const dot = qualified.lastIndexOf('.')
  if (dot <= 0 || dot === qualified.length - 1) return null
  const table = qualified.slice(0, dot)
  if (table === '?') return null
  return {table, column: qualified.slice(dot + 1)}
}

/** Collects rows, deduplicated by identity, in a stable order. */
class RowSet {
  readonly tables = new Map<string, TableRow>()
  readonly columns = new Map<string, ColumnRow>()
  readonly reads = new Map<string, StatementTableRow>()
  readonly writes = new Map<string, StatementTableRow>()
  readonly tableDerives = new Map<string, DerivesRow>()
  readonly columnDerives = new Map<string, DerivesRow>()

  table(name: string): string {
    const key = nodeKey(name)
    if (!this.tables.has(key)) this.tables.set(key, {key, name})
    return key
  }

  column(table: string, column: string): string {
    const id = `${table}.${column}`
    const key = nodeKey(id)
    if (!this.columns.has(key)) this.columns.set(key, {key, id, name: column, tableKey: this.table(table)})
    return key
  }
}

const pairKey = (...parts: string[]): string => JSON.stringify(parts)
const sortedValues = <T>(map: Map<string, T>): T[] =>
  [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v)

function addStatement(set: RowSet, id: string, st: StatementLineage): StatementRow {
  const row = (name: string): StatementTableRow => ({
    statementId: id,
    tableKey: set.table(name),
    written: st.written?.[name] ?? name,
  })
  const reads = [...new Set(st.sources)].map(row)
  const writes = [...new Set(st.targets)].map(row)
  for (const r of reads) set.reads.set(pairKey(id, r.tableKey), r)
  for (const r of writes) set.writes.set(pairKey(id, r.tableKey), r)
  const sources = reads.map((r) => r.tableKey)
  const targets = writes.map((r) => r.tableKey)
  for (const targetKey of targets) {
    for (const sourceKey of sources) {
      set.tableDerives.set(pairKey(id, targetKey, sourceKey), {statementId: id, targetKey, sourceKey})
    }
  }
  const columnKeys = new Set<string>()
  const unresolved = new Set<string>()
  for (const col of st.columns) {
    const target = splitColumn(col.target)
    if (!target) {
      for (const source of col.sources.length > 0 ? col.sources : ['']) unresolved.add(pairKey(col.target, source))
      continue
    }
    const targetKey = set.column(target.table, target.column)
    columnKeys.add(targetKey)
    for (const source of col.sources) {
      const parsed = splitColumn(source)
      if (!parsed) {
        unresolved.add(pairKey(col.target, source))
        continue
      }
      const sourceKey = set.column(parsed.table, parsed.column)
      columnKeys.add(sourceKey)
      set.columnDerives.set(pairKey(id, targetKey, sourceKey), {statementId: id, targetKey, sourceKey})
    }
  }
  return {
    id,
    index: st.index,
    kind: st.kind,
    line: st.line,
    status: st.status,
    columnKeys: [...columnKeys].sort(),
    unresolvedColumns: [...unresolved].sort(),
  }
}

/** The rows an upsert writes. Statements sharing an index keep the first. */
export function fileRows(op: GraphUpsert): FileRows {
  const set = new RowSet()
  const statements = new Map<string, StatementRow>()
  for (const st of op.lineage.statements) {
    const id = statementId(op.path, st.index)
    if (!statements.has(id)) statements.set(id, addStatement(set, id, st))
  }
  return {
    file: {
      path: op.path,
      contentHash: op.contentHash,
      dialect: op.dialect,
      ingestedAt: op.ingestedAt,
      ...(op.lineage.incomplete ? {incomplete: true as const} : {}),
    },
    statements: [...statements.values()].sort((a, b) => a.index - b.index),
    tables: sortedValues(set.tables),
    columns: sortedValues(set.columns),
    reads: sortedValues(set.reads),
    writes: sortedValues(set.writes),
    tableDerives: sortedValues(set.tableDerives),
    columnDerives: sortedValues(set.columnDerives),
  }
}

/** Nodes plus relationships: what the baseline writes in as many transactions. */
export function entityCount(rows: FileRows): number {
  const nodes = 1 + rows.statements.length + rows.tables.length + rows.columns.length
  const relationships =
    rows.statements.length + // CONTAINS
    rows.reads.length +
    rows.writes.length +
    rows.columns.length + // HAS_COLUMN
    rows.tableDerives.length +
    rows.columnDerives.length
  return nodes + relationships
}

export function prepareOp(op: GraphOp, namespace: string): PreparedOp {
  if (op.op === 'retract') return {op: 'retract', namespace, path: op.path, time: op.at}
  return {op: 'upsert', namespace, path: op.path, time: op.ingestedAt, rows: fileRows(op)}
}
