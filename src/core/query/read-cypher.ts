/**
 * The Cypher `trace` and `impact` read with: pure text, every value a `$parameter`. Tables and columns are
 * looked up by `key` (graph/model.ts nodeKey), which the uniqueness constraints index; an edge's file and line
 * come from the Statement its (namespace, statementId) names (also indexed), through the file that CONTAINS it.
 * Edges are read from every namespace (tables are shared: lineage crosses repositories), each with the namespace
 * of its file; what is read by file path (FILE_EDGES) is read in `$namespace` only.
 */

/** `$key`: which kind of node carries it. */
export const KIND_OF = `
OPTIONAL MATCH (t:Table {key: $key})
OPTIONAL MATCH (c:Column {key: $key})
RETURN t IS NOT NULL AS isTable, c IS NOT NULL AS isColumn`

const EDGE_ROWS = `
MATCH (st:Statement {namespace: d.namespace, id: d.statementId})<-[:CONTAINS]-(f:SqlFile)
RETURN target.name AS target, source.name AS source, f.namespace AS namespace, f.path AS file, st.line AS line`

const COLUMN_EDGE_ROWS = `
MATCH (st:Statement {namespace: d.namespace, id: d.statementId})<-[:CONTAINS]-(f:SqlFile)
RETURN target.id AS target, source.id AS source, f.namespace AS namespace, f.path AS file, st.line AS line`

/** `$keys`: edges into (upstream) or out of (downstream) the nodes with these keys. */
export const EDGES = {
  table: {
    upstream: `UNWIND $keys AS k MATCH (target:Table {key: k})-[d:DERIVES_FROM]->(source:Table)${EDGE_ROWS}`,
    downstream: `UNWIND $keys AS k MATCH (target:Table)-[d:DERIVES_FROM]->(source:Table {key: k})${EDGE_ROWS}`,
  },
  column: {
    upstream: `UNWIND $keys AS k MATCH (target:Column {key: k})-[d:DERIVES_FROM]->(source:Column)${COLUMN_EDGE_ROWS}`,
    downstream: `UNWIND $keys AS k MATCH (target:Column)-[d:DERIVES_FROM]->(source:Column {key: k})${COLUMN_EDGE_ROWS}`,
  },
} as const

export const NAMES = {
  table: 'MATCH (t:Table) RETURN t.name AS name',
  column: 'MATCH (c:Column) RETURN c.id AS name',
} as const

/** `$paths` of `$namespace`: the edges each file's statements produced. */
export const FILE_EDGES = {
  table: `
UNWIND $paths AS p
MATCH (f:SqlFile {namespace: $namespace, path: p})-[:CONTAINS]->(st:Statement)
MATCH (target:Table)-[d:DERIVES_FROM {namespace: $namespace, statementId: st.id}]->(source:Table)
RETURN target.name AS target, source.name AS source, f.namespace AS namespace, f.path AS file, st.line AS line`,
  column: `
UNWIND $paths AS p
MATCH (f:SqlFile {namespace: $namespace, path: p})-[:CONTAINS]->(st:Statement)
MATCH (target:Column)-[d:DERIVES_FROM {namespace: $namespace, statementId: st.id}]->(source:Column)
RETURN target.id AS target, source.id AS source, f.namespace AS namespace, f.path AS file, st.line AS line`,
} as const
