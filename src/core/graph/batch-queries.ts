/**
 * The entity queries of a batched write (FEATURE_NEO4J_BATCH): what GraphWriter runs inside the one
 * transaction of a group of whole files, after deleting what those files produced before. Pure: Cypher text
 * and the rows it takes; no I/O, no driver.
 *
 * Why these differ from the one-entity-per-transaction queries of the baseline:
 * - Relationships of a statement are CREATEd, not MERGEd. That is exact here: the same transaction has just
 *   deleted every Statement of these paths (DETACH, so their CONTAINS, READS and WRITES went with them) and
 *   every DERIVES_FROM carrying one of their statement ids; a statement id belongs to one path; and each
 *   file's rows are deduplicated (graph-model). MERGE would search the relationships between the two
 *   endpoints first, a cost that grows with how many statements use a column: on a fresh graph of 300
 *   generated files it was two thirds of Neo4j's CPU.
 * - Endpoints are MATCHed, not MERGEd: the node queries earlier in the transaction created every Table and
 *   Column the rows name (`batchRows` makes sure of it even for rows replayed from the failed-ingestion
 *   file), so the relationship rows carry keys only, which also halves what is sent.
 * - Column nodes and their HAS_COLUMN come in one pass, and Table and Column properties are set on creation
 *   only (a key determines its name, so an existing node already has it).
 * HAS_COLUMN stays MERGE: it joins nodes that files share.
 */
import type {FileRows, SqlFileRow, StatementRow} from './model.js'

/** The SqlFile and Statement upserts: the same in both modes (a batch's rows, or the one row of the baseline). */
export const FILE_AND_STATEMENT_QUERIES = {
  files: `UNWIND $rows AS r MERGE (f:SqlFile {path: r.path})
    SET f.contentHash = r.contentHash, f.dialect = r.dialect, f.ingestedAt = r.ingestedAt`,
  statements: `UNWIND $rows AS r MERGE (s:Statement {id: r.id})
    SET s.index = toInteger(r.index), s.kind = r.kind, s.line = toInteger(r.line), s.status = r.status,
      s.columnKeys = r.columnKeys, s.unresolvedColumns = r.unresolvedColumns`,
} as const

export const BATCH_QUERIES = {
  ...FILE_AND_STATEMENT_QUERIES,
  tables: 'UNWIND $rows AS r MERGE (t:Table {key: r.key}) ON CREATE SET t.name = r.name',
  columns: `UNWIND $rows AS r MATCH (t:Table {key: r.tableKey})
    MERGE (c:Column {key: r.key}) ON CREATE SET c.id = r.id, c.name = r.name MERGE (t)-[:HAS_COLUMN]->(c)`,
  looseColumns: 'UNWIND $rows AS r MERGE (c:Column {key: r.key}) ON CREATE SET c.id = r.id, c.name = r.name',
  contains: `UNWIND $rows AS r MATCH (f:SqlFile {path: r.path}) MATCH (s:Statement {id: r.id})
    CREATE (f)-[:CONTAINS]->(s)`,
  reads: `UNWIND $rows AS r MATCH (s:Statement {id: r.statementId}) MATCH (t:Table {key: r.tableKey})
    CREATE (s)-[:READS]->(t)`,
  writes: `UNWIND $rows AS r MATCH (s:Statement {id: r.statementId}) MATCH (t:Table {key: r.tableKey})
    CREATE (s)-[:WRITES]->(t)`,
  tableDerives: `UNWIND $rows AS r MATCH (a:Table {key: r.targetKey}) MATCH (b:Table {key: r.sourceKey})
    CREATE (a)-[:DERIVES_FROM {statementId: r.statementId}]->(b)`,
  columnDerives: `UNWIND $rows AS r MATCH (a:Column {key: r.targetKey}) MATCH (b:Column {key: r.sourceKey})
    CREATE (a)-[:DERIVES_FROM {statementId: r.statementId}]->(b)`,
} as const

export type BatchQuery = keyof typeof BATCH_QUERIES
/** The order they run in: nodes before the relationships that need them. */
export const BATCH_ORDER: readonly BatchQuery[] = [
  'files',
  'statements',
  'tables',
  'columns',
  'looseColumns',
  'contains',
  'reads',
  'writes',
  'tableDerives',
  'columnDerives',
]

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

/** The values of a map of nodes, sorted by key (a stable lock order). */
export const byKey = <T extends {key: string}>(m: Map<string, T>): T[] =>
  [...m.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))

/**
 * The rows of several files for BATCH_QUERIES: nodes deduplicated and sorted by key (a stable lock order),
 * relationships as keys. An endpoint that no node row names (possible only in rows from elsewhere, such as
 * an old failed-ingestion file) is created as the baseline's MERGE would create it: named by its key, and a
 * column without a table (`looseColumns`).
 */
export function batchRows(all: readonly FileRows[]): Record<BatchQuery, unknown[]> {
  const tables = new Map<string, TableNode>()
  const columns = new Map<string, ColumnNode>()
  for (const rows of all) {
    for (const t of rows.tables) tables.set(t.key, t)
    for (const c of rows.columns) columns.set(c.key, c)
  }
  const loose = new Map<string, {key: string; id: string; name: string}>()
  const table = (key: string): void => {
    if (!tables.has(key)) tables.set(key, {key, name: key})
  }
  const column = (key: string): void => {
    if (!columns.has(key) && !loose.has(key)) loose.set(key, {key, id: key, name: key})
  }
  const files: SqlFileRow[] = []
  const statements: StatementRow[] = []
  const contains: {path: string; id: string}[] = []
  for (const rows of all) {
    files.push(rows.file)
    for (const s of rows.statements) {
      statements.push(s)
      contains.push({path: rows.file.path, id: s.id})
    }
    for (const r of rows.reads) table(r.tableKey)
    for (const r of rows.writes) table(r.tableKey)
    for (const d of rows.tableDerives) {
      table(d.targetKey)
      table(d.sourceKey)
    }
    for (const d of rows.columnDerives) {
      column(d.targetKey)
      column(d.sourceKey)
    }
  }
  for (const c of columns.values()) table(c.tableKey)
  return {
    files,
    statements,
    tables: byKey(tables),
    columns: byKey(columns),
    looseColumns: byKey(loose),
    contains,
    reads: all.flatMap((r) => r.reads),
    writes: all.flatMap((r) => r.writes),
    tableDerives: all.flatMap((r) => r.tableDerives),
    columnDerives: all.flatMap((r) => r.columnDerives),
  }
}
