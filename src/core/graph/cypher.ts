/**
 * Every Cypher statement lineage runs against Neo4j, as text: the schema and its migration, the replacement
 * delete and orphan clean-up both writers share, the reads, the batched writer's UNWIND queries and the
 * baseline's one-entity queries. Pure: no I/O, no driver; throws nothing. Every value is a `$parameter` (a
 * batch's rows are `$rows`); labels, relationship types and property names are constants here, never built
 * from data.
 *
 * Namespaces (docs/namespaces.md): every SqlFile, Statement and DERIVES_FROM carries the `namespace` of the
 * watcher that wrote it, and every query that touches them is given one (`$namespace`, one per transaction).
 * A SqlFile is identified by (namespace, path), a Statement by (namespace, id) with id `path#<index>`, a
 * DERIVES_FROM edge by the (namespace, statementId) of the statement that made it, so replacing or retracting
 * a path of one namespace never touches another's. Table and Column nodes are shared by all namespaces: that
 * is how lineage crosses repositories, and why the orphan checks look at statements of every namespace.
 *
 * Why the batched queries (BATCH_QUERIES) differ from the one-entity-per-transaction ones (ENTITY_QUERIES):
 * - Relationships of a statement are CREATEd, not MERGEd. That is exact here: the same transaction has just
 *   deleted every Statement of these paths (DETACH, so their CONTAINS, READS and WRITES went with them) and
 *   every DERIVES_FROM carrying one of their statement ids, except the statements it keeps unchanged (same
 *   fingerprint), whose relationships it does not write again; a statement id belongs to one path; and each
 *   file's rows are deduplicated (graph/model). MERGE would search the relationships between the two
 *   endpoints first, a cost that grows with how many statements use a column: on a fresh graph of 300
 *   generated files it was two thirds of Neo4j's CPU.
 * - Endpoints are MATCHed, not MERGEd: the node queries earlier in the transaction created every Table and
 *   Column the rows name (`batchRows` makes sure of it even for rows replayed from the failed-ingestion
 *   file), so the relationship rows carry keys only, which also halves what is sent.
 * - Column nodes and their HAS_COLUMN come in one pass, and Table and Column properties are set on creation
 *   only (a key determines its name, so an existing node already has it).
 * HAS_COLUMN stays MERGE: it joins nodes that files share.
 * - Table and Column rows of nodes this writer wrote before are left out (graph/known-nodes says when that is
 *   exact); the queries that MATCH endpoints return how many rows found them, which is how a node deleted by
 *   another process is noticed.
 *
 * Why every batched transaction begins with REPLACE.lock: the delete-then-CREATE above is exact only while
 * no other transaction writes the same path at the same time. Two of them (a service catching up and a
 * `retry-failed` in another process, say) would each delete what was committed before either began, neither
 * sees the other's uncommitted statements, and both CREATE: every CONTAINS, READS, WRITES and DERIVES_FROM
 * of the path twice. The lock MERGEs each path's SqlFile and sets and removes a property on it, which takes
 * Neo4j's write lock on that node (or, for a new path, on its uniqueness-constraint entry) until commit, so
 * the second writer of a path waits for the first to commit and then deletes what the first wrote. Nothing
 * stays of it: the property is removed in the same statement; a new upsert's node is the one `files` MERGEs;
 * a retracted path's node goes with `deleteFiles` later in the transaction, and a rolled-back one with the
 * rollback. The paths are locked sorted and deduplicated, so two groups sharing paths take their locks in
 * one order and cannot deadlock on them. They can still deadlock on the shared Table and Column nodes (and
 * a lock wait can end in one): Neo4j reports that as Neo.TransientError.Transaction.DeadlockDetected, which
 * the driver's executeWrite retries with the whole work function (graph/transactions).
 *
 * The baseline writes each entity in a transaction of its own, so its relationship queries MERGE their
 * endpoints (not MATCH): an orphan clean-up racing a baseline writer between its node and relationship
 * transactions can never make a relationship silently vanish.
 */

export const SCHEMA = [
  `CREATE CONSTRAINT lineage_sqlfile_namespace_path IF NOT EXISTS FOR (n:SqlFile)
    REQUIRE (n.namespace, n.path) IS UNIQUE`,
  `CREATE CONSTRAINT lineage_statement_namespace_id IF NOT EXISTS FOR (n:Statement)
    REQUIRE (n.namespace, n.id) IS UNIQUE`,
  'CREATE CONSTRAINT lineage_table_key IF NOT EXISTS FOR (n:Table) REQUIRE n.key IS UNIQUE',
  'CREATE CONSTRAINT lineage_column_key IF NOT EXISTS FOR (n:Column) REQUIRE n.key IS UNIQUE',
  'CREATE INDEX lineage_derives_statement IF NOT EXISTS FOR ()-[r:DERIVES_FROM]-() ON (r.statementId)',
] as const

/** The uniqueness constraints SCHEMA creates, as `Label.property` (what constraintsPresent checks). */
export const REQUIRED_CONSTRAINTS = [
  'SqlFile.namespace,path',
  'Statement.namespace,id',
  'Table.key',
  'Column.key',
] as const

/**
 * Bringing a graph written before namespaces (SqlFile unique on `path`, Statement on `id`) to the composite
 * keys: run after SCHEMA, as auto-commit queries (CALL IN TRANSACTIONS), each touching only what has no
 * namespace yet, so a run stopped half way resumes and a second run changes nothing. The old constraints go
 * last: while one exists the migration is not finished (graph/migrate).
 */
export const MIGRATE = {
  oldConstraints: `SHOW CONSTRAINTS YIELD name WHERE name IN ['lineage_sqlfile_path', 'lineage_statement_id']
    RETURN name`,
  unmigratedFiles: 'MATCH (f:SqlFile) WHERE f.namespace IS NULL RETURN count(f) AS n',
  derives: `MATCH ()-[r:DERIVES_FROM]->() WHERE r.namespace IS NULL AND r.statementId IS NOT NULL
    CALL (r) { SET r.namespace = $namespace } IN TRANSACTIONS OF 10000 ROWS RETURN count(r) AS n`,
  statements: `MATCH (s:Statement) WHERE s.namespace IS NULL
    CALL (s) { SET s.namespace = $namespace } IN TRANSACTIONS OF 10000 ROWS RETURN count(s) AS n`,
  files: `MATCH (f:SqlFile) WHERE f.namespace IS NULL
    CALL (f) { SET f.namespace = $namespace } IN TRANSACTIONS OF 10000 ROWS RETURN count(f) AS n`,
  dropOld: ['DROP CONSTRAINT lineage_sqlfile_path IF EXISTS', 'DROP CONSTRAINT lineage_statement_id IF EXISTS'],
} as const

/** A statement or edge of `path`: its id is exactly `path#<index>` (a path may itself contain '#'). */
const OF_PATH = (id: string): string => `${id} STARTS WITH path + '#' AND substring(${id}, size(path) + 1) =~ '[0-9]+'`

/** Taking out what paths of the namespace `$namespace` produced before: `$rows` are paths. */
export const REPLACE = {
  /**
   * First in every batched transaction; `$rows` are the group's paths, sorted and deduplicated (see above).
   * Returns what the SqlFile held before this transaction (`ingestedAt` null for a path not in the graph), and
   * whether its last write completed (`sealed`: it has its contentHash, which the baseline removes first and
   * writes last; a batched write is all or nothing).
   */
  lock: `UNWIND $rows AS path MERGE (f:SqlFile {namespace: $namespace, path: path})
    SET f.lineageLock = true REMOVE f.lineageLock
    RETURN path, f.ingestedAt AS ingestedAt, f.contentHash IS NOT NULL AS sealed`,
  /** The statements the graph holds for these paths, with their fingerprints (graph/rows withFingerprints). */
  fingerprints: `UNWIND $rows AS path MATCH (s:Statement) WHERE s.namespace = $namespace AND ${OF_PATH('s.id')}
    RETURN s.id AS id, s.fingerprint AS fingerprint`,
  /** `$kept`: ids of statements the transaction keeps as they are (written before with the same fingerprint). */
  deleteDerives: `UNWIND $rows AS path MATCH (a)-[r:DERIVES_FROM]->(b)
    WHERE ${OF_PATH('r.statementId')} AND r.namespace = $namespace AND NOT r.statementId IN $kept
    DELETE r RETURN a:Table AS isTable, a.key AS a, b.key AS b`,
  deleteStatements: `UNWIND $rows AS path MATCH (s:Statement) WHERE s.namespace = $namespace AND ${OF_PATH('s.id')}
    AND NOT s.id IN $kept
    WITH s, [(s)-[:READS|WRITES]->(t:Table) | t.key] AS tables, coalesce(s.columnKeys, []) AS columns
    DETACH DELETE s RETURN tables, columns`,
  deleteFiles: 'UNWIND $rows AS path MATCH (f:SqlFile {namespace: $namespace, path: path}) DETACH DELETE f',
  /** Baseline: the SqlFile loses its contentHash until the last of its entity transactions seals it again. */
  unsealFiles: 'UNWIND $rows AS path MATCH (f:SqlFile {namespace: $namespace, path: path}) REMOVE f.contentHash',
} as const

/** Deleting Table and Column nodes nothing references any more: `$rows` (or `$keys`) are node keys. */
export const ORPHANS = {
  derivelessColumns: `UNWIND $rows AS k MATCH (c:Column {key: k}) WHERE NOT (c)-[:DERIVES_FROM]-() RETURN k`,
  liveColumns: `MATCH (s:Statement) WHERE any(k IN s.columnKeys WHERE k IN $keys)
    UNWIND s.columnKeys AS k WITH k WHERE k IN $keys RETURN DISTINCT k`,
  deleteColumns: `UNWIND $rows AS k MATCH (c:Column {key: k}) OPTIONAL MATCH (t:Table)-[:HAS_COLUMN]->(c)
    WITH c, collect(t.key) AS tables DETACH DELETE c RETURN tables`,
  deleteTables: 'UNWIND $rows AS k MATCH (t:Table {key: k}) WHERE NOT (t)--() DELETE t RETURN k',
} as const

export const READS = {
  /** What the graph holds for each path in `$rows` of `$namespace` (retry-failed's skip decisions). */
  fileStates: `UNWIND $rows AS path OPTIONAL MATCH (f:SqlFile {namespace: $namespace, path: path})
    CALL (path) { MATCH (s:Statement) WHERE s.namespace = $namespace AND ${OF_PATH('s.id')} RETURN count(s) AS n }
    RETURN path, f IS NOT NULL AS exists, f.contentHash AS contentHash, f.ingestedAt AS ingestedAt, n`,
  constraints: 'SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties',
  ping: 'RETURN 1',
} as const

/** The SqlFile and Statement upserts: the same in both modes (a batch's rows, or the one row of the baseline). */
const FILE_AND_STATEMENT_QUERIES = {
  files: `UNWIND $rows AS r MERGE (f:SqlFile {namespace: $namespace, path: r.path})
    SET f.contentHash = r.contentHash, f.dialect = r.dialect, f.ingestedAt = r.ingestedAt,
      f.incomplete = r.incomplete`,
  statements: `UNWIND $rows AS r MERGE (s:Statement {namespace: $namespace, id: r.id})
    SET s.index = toInteger(r.index), s.kind = r.kind, s.line = toInteger(r.line), s.status = r.status,
      s.columnKeys = r.columnKeys, s.unresolvedColumns = r.unresolvedColumns, s.fingerprint = r.fingerprint`,
} as const

export const BATCH_QUERIES = {
  ...FILE_AND_STATEMENT_QUERIES,
  tables: 'UNWIND $rows AS r MERGE (t:Table {key: r.key}) ON CREATE SET t.name = r.name',
  columns: `UNWIND $rows AS r MATCH (t:Table {key: r.tableKey})
    MERGE (c:Column {key: r.key}) ON CREATE SET c.id = r.id, c.name = r.name MERGE (t)-[:HAS_COLUMN]->(c)
    RETURN count(*) AS n`,
  looseColumns: 'UNWIND $rows AS r MERGE (c:Column {key: r.key}) ON CREATE SET c.id = r.id, c.name = r.name',
  contains: `UNWIND $rows AS r MATCH (f:SqlFile {namespace: $namespace, path: r.path})
    MATCH (s:Statement {namespace: $namespace, id: r.id})
    CREATE (f)-[:CONTAINS]->(s) RETURN count(*) AS n`,
  reads: `UNWIND $rows AS r MATCH (s:Statement {namespace: $namespace, id: r.statementId})
    MATCH (t:Table {key: r.tableKey}) CREATE (s)-[:READS {written: r.written}]->(t)
    RETURN count(*) AS n`,
  writes: `UNWIND $rows AS r MATCH (s:Statement {namespace: $namespace, id: r.statementId})
    MATCH (t:Table {key: r.tableKey}) CREATE (s)-[:WRITES {written: r.written}]->(t)
    RETURN count(*) AS n`,
  tableDerives: `UNWIND $rows AS r MATCH (a:Table {key: r.targetKey}) MATCH (b:Table {key: r.sourceKey})
    CREATE (a)-[:DERIVES_FROM {namespace: $namespace, statementId: r.statementId}]->(b) RETURN count(*) AS n`,
  columnDerives: `UNWIND $rows AS r MATCH (a:Column {key: r.targetKey}) MATCH (b:Column {key: r.sourceKey})
    CREATE (a)-[:DERIVES_FROM {namespace: $namespace, statementId: r.statementId}]->(b) RETURN count(*) AS n`,
} as const

/**
 * The batched queries that MATCH an endpoint and return `n`, how many rows found it: fewer than the rows sent
 * means a node the writer took as known was deleted by another process (graph/known-nodes).
 */
export const COUNTED_BATCH_QUERIES: ReadonlySet<string> = new Set([
  'columns',
  'contains',
  'reads',
  'writes',
  'tableDerives',
  'columnDerives',
])

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

export const ENTITY_QUERIES = {
  ...FILE_AND_STATEMENT_QUERIES,
  tables: 'UNWIND $rows AS r MERGE (t:Table {key: r.key}) SET t.name = r.name',
  columns: 'UNWIND $rows AS r MERGE (c:Column {key: r.key}) SET c.id = r.id, c.name = r.name',
  contains: `UNWIND $rows AS r MERGE (f:SqlFile {namespace: $namespace, path: r.path})
    WITH f, r MATCH (s:Statement {namespace: $namespace, id: r.id})
    MERGE (f)-[:CONTAINS]->(s)`,
  reads: `UNWIND $rows AS r MATCH (s:Statement {namespace: $namespace, id: r.statementId})
    MERGE (t:Table {key: r.tableKey}) ON CREATE SET t.name = r.name
    MERGE (s)-[x:READS]->(t) SET x.written = r.written`,
  writes: `UNWIND $rows AS r MATCH (s:Statement {namespace: $namespace, id: r.statementId})
    MERGE (t:Table {key: r.tableKey}) ON CREATE SET t.name = r.name
    MERGE (s)-[x:WRITES]->(t) SET x.written = r.written`,
  hasColumn: `UNWIND $rows AS r MERGE (t:Table {key: r.tableKey}) ON CREATE SET t.name = r.tableName
    MERGE (c:Column {key: r.key}) ON CREATE SET c.id = r.id, c.name = r.name MERGE (t)-[:HAS_COLUMN]->(c)`,
  tableDerives: `UNWIND $rows AS r MERGE (a:Table {key: r.targetKey}) ON CREATE SET a.name = r.target.name
    MERGE (b:Table {key: r.sourceKey}) ON CREATE SET b.name = r.source.name
    MERGE (a)-[:DERIVES_FROM {namespace: $namespace, statementId: r.statementId}]->(b)`,
  columnDerives: `UNWIND $rows AS r
    MERGE (a:Column {key: r.targetKey}) ON CREATE SET a.id = r.target.id, a.name = r.target.name
    MERGE (b:Column {key: r.sourceKey}) ON CREATE SET b.id = r.source.id, b.name = r.source.name
    MERGE (a)-[:DERIVES_FROM {namespace: $namespace, statementId: r.statementId}]->(b)`,
} as const

export type EntityQuery = keyof typeof ENTITY_QUERIES
/**
 * The baseline's order: nodes before relationships, and the SqlFile (with its contentHash) is not here: it is
 * written last, alone, so a SqlFile carrying a contentHash proves the whole file was written.
 */
export const ENTITY_ORDER = [
  'statements',
  'tables',
  'columns',
  'contains',
  'reads',
  'writes',
  'hasColumn',
  'tableDerives',
  'columnDerives',
] as const satisfies readonly EntityQuery[]
