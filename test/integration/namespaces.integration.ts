/**
 * Namespaces in the Neo4j graph key (docs/namespaces.md), against a real Neo4j:
 * - two watchers of two folders with overlapping relative paths share one graph: each one's reconcile and
 *   retractions leave the other's files alone (full graph comparison with a clean ingestion);
 * - trace reads the edges of every namespace, impact the old edges of its own files only;
 * - retry-failed replays each failed entry into the namespace it records (an old one's: the current);
 * - a graph written before namespaces migrates at connect into the connecting writer's namespace, equal to
 *   a fresh write of the same files, and a second migration (or one resumed half way) changes nothing.
 */
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {MIGRATE} from '../../src/core/graph/cypher.js'
import {migrateNamespaces} from '../../src/core/graph/migrate.js'
import {fileRows, type GraphOp, type GraphUpsert} from '../../src/core/graph/model.js'
import {GraphWriter} from '../../src/core/graph/writer.js'
import {appendFailures} from '../../src/core/ingest/dead-letter.js'
import {retryFailed} from '../../src/core/ops/retry-failed.js'
import {silentLogger} from '../../src/core/index.js'
import {folderNamespace} from '../../src/core/ops/namespace.js'
import {Neo4jGraph} from '../../src/core/query/neo4j-graph.js'
import {expectSameGraph} from '../faults/support/reference.js'
import {type Neo4jContext, type Snapshot, stmt, upsert, useNeo4j} from '../helpers/neo4j.js'
import {ingestOnce, serviceEnv, writeSql} from '../helpers/service.js'
import {tmpDir, useTmpDir} from '../helpers/tmp.js'

const DAILY_A = `INSERT INTO mart.daily (id, total) SELECT id, SUM(amount) FROM stg.trades GROUP BY id;`
const DAILY_B = `INSERT INTO mart.daily_b (id, total) SELECT t.id, t.qty FROM stg.trades t;
INSERT INTO mart.book (book) SELECT book FROM raw.positions;`
const STAGE = `CREATE TABLE stg.trades AS SELECT id, amount, qty FROM raw.trades;`
const ONLY_B = `INSERT INTO mart.positions (book, qty) SELECT p.book, p.qty FROM raw.positions p;`

/** The two folders: `etl/daily.sql` and `etl/stage.sql` in both, with different SQL; `b.sql` in B only. */
function writeFolders(a: string, b: string): void {
  writeSql(a, 'etl/daily.sql', DAILY_A)
  writeSql(a, 'etl/stage.sql', STAGE)
  writeSql(b, 'etl/daily.sql', DAILY_B)
  writeSql(b, 'etl/stage.sql', `${STAGE}\n-- B's copy`)
  writeSql(b, 'b.sql', ONLY_B)
}

async function files(neo: Pick<Neo4jContext, 'query'>): Promise<string[]> {
  const rows = await neo.query('MATCH (f:SqlFile) RETURN f.namespace AS ns, f.path AS path ORDER BY ns, path')
  return rows.map((r) => `${String(r.ns)} ${String(r.path)}`)
}

describe('namespaces: two watchers share one Neo4j', function () {
  this.timeout(120_000)
  const neo = useNeo4j()
  const tmp = useTmpDir({prefix: 'lineage-ns-'})

  it("each one's reconcile and retractions leave the other's files alone", async () => {
    // A takes the default namespace (its folder's file:// URI), B an explicit one.
    const envA = serviceEnv(join(tmp.dir, 'a'), {NEO4J_URI: neo.uri})
    const envB = serviceEnv(join(tmp.dir, 'b'), {NEO4J_URI: neo.uri, LINEAGE_NAMESPACE: 'repo-b'})
    const rawA = envA.LINEAGE_RAW_DIR!
    const rawB = envB.LINEAGE_RAW_DIR!
    const nsA = folderNamespace(rawA)
    writeFolders(rawA, rawB)
    expect((await ingestOnce(envA)).graphFailures).to.equal(0)
    expect((await ingestOnce(envB)).graphFailures).to.equal(0)
    expect(await files(neo)).to.deep.equal(
      [`${nsA} etl/daily.sql`, `${nsA} etl/stage.sql`, 'repo-b b.sql', 'repo-b etl/daily.sql', 'repo-b etl/stage.sql'],
      'the same relative path in two namespaces is two files',
    )
    // A reconcile that changes nothing in A (B wrote since): B's files stay.
    await ingestOnce(envA)
    expectSameGraph(await neo.graphSnapshot(), await cleanGraphOf(neo, [envB, envA]))

    // A retracts etl/daily.sql; B's etl/daily.sql, its statements and the tables it shares with A stay.
    rmSync(join(rawA, 'etl/daily.sql'))
    await ingestOnce(envA)
    expect(await files(neo)).to.deep.equal([
      `${nsA} etl/stage.sql`,
      'repo-b b.sql',
      'repo-b etl/daily.sql',
      'repo-b etl/stage.sql',
    ])
    expectSameGraph(await neo.graphSnapshot(), await cleanGraphOf(neo, [envA, envB]))

    // B retracts its etl/stage.sql and rewrites b.sql: A's etl/stage.sql (same path) stays as it was.
    rmSync(join(rawB, 'etl/stage.sql'))
    writeSql(rawB, 'b.sql', `${ONLY_B}\nINSERT INTO mart.extra (x) SELECT x FROM raw.trades;`)
    await ingestOnce(envB)
    expect(await files(neo)).to.deep.equal([`${nsA} etl/stage.sql`, 'repo-b b.sql', 'repo-b etl/daily.sql'])
    expectSameGraph(await neo.graphSnapshot(), await cleanGraphOf(neo, [envA, envB]))
  })
})

/**
 * The graph a clean ingestion of the watchers' folders as they are now gives (fresh ledgers, in these
 * namespaces), in a cleaned graph; the graph under test is snapshotted before. Same folders, so same default
 * namespaces.
 */
async function cleanGraphOf(neo: Neo4jContext, envs: NodeJS.ProcessEnv[]) {
  await neo.cleanGraph()
  for (const env of envs) {
    const t = tmpDir('lineage-ns-clean-')
    try {
      const clean = serviceEnv(t.dir, {
        NEO4J_URI: neo.uri,
        LINEAGE_RAW_DIR: env.LINEAGE_RAW_DIR,
        LINEAGE_NAMESPACE: env.LINEAGE_NAMESPACE,
      })
      expect((await ingestOnce(clean)).graphFailures).to.equal(0)
    } finally {
      t.remove()
    }
  }
  return neo.graphSnapshot()
}

// ---- migration -----------------------------------------------------------------------------------------------

const OPS: GraphUpsert[] = [
  upsert('etl/a.sql', [
    stmt(0, {sources: ['raw.t'], targets: ['stg.t'], columns: [{target: 'stg.t.x', sources: ['raw.t.x']}]}),
    stmt(1, {sources: ['stg.t'], targets: ['mart.m'], columns: [{target: 'mart.m.y', sources: ['stg.t.x', '?.z']}]}),
  ]),
  upsert('etl/b#1.sql', [stmt(0, {sources: ['stg.t'], targets: ['mart.n']})]),
  upsert('empty.sql', []),
]

/** The graph of OPS as the release before namespaces wrote it: raw Cypher, its constraints, no namespace. */
async function writeOldFormat(neo: Neo4jContext): Promise<void> {
  for (const name of ['lineage_sqlfile_namespace_path', 'lineage_statement_namespace_id']) {
    await neo.query(`DROP CONSTRAINT ${name} IF EXISTS`)
  }
  await neo.query('CREATE CONSTRAINT lineage_sqlfile_path IF NOT EXISTS FOR (n:SqlFile) REQUIRE n.path IS UNIQUE')
  await neo.query('CREATE CONSTRAINT lineage_statement_id IF NOT EXISTS FOR (n:Statement) REQUIRE n.id IS UNIQUE')
  for (const op of OPS) {
    const rows = fileRows(op)
    await neo.query(
      `CREATE (f:SqlFile {path: $f.path, contentHash: $f.contentHash, dialect: $f.dialect, ingestedAt: $f.ingestedAt})
       WITH f UNWIND $statements AS s
       CREATE (f)-[:CONTAINS]->(:Statement {id: s.id, index: s.index, kind: s.kind, line: s.line, status: s.status,
         columnKeys: s.columnKeys, unresolvedColumns: s.unresolvedColumns})`,
      {f: rows.file, statements: rows.statements},
    )
    await neo.query('UNWIND $rows AS r MERGE (t:Table {key: r.key}) ON CREATE SET t.name = r.name', {rows: rows.tables})
    await neo.query(
      `UNWIND $rows AS r MATCH (t:Table {key: r.tableKey})
       MERGE (c:Column {key: r.key}) ON CREATE SET c.id = r.id, c.name = r.name MERGE (t)-[:HAS_COLUMN]->(c)`,
      {rows: rows.columns},
    )
    for (const [rel, list] of [
      ['READS', rows.reads],
      ['WRITES', rows.writes],
    ] as const) {
      await neo.query(
        `UNWIND $rows AS r MATCH (s:Statement {id: r.statementId}) MATCH (t:Table {key: r.tableKey})
         CREATE (s)-[:${rel}]->(t)`,
        {rows: list},
      )
    }
    for (const [label, list] of [
      ['Table', rows.tableDerives],
      ['Column', rows.columnDerives],
    ] as const) {
      await neo.query(
        `UNWIND $rows AS r MATCH (a:${label} {key: r.targetKey}) MATCH (b:${label} {key: r.sourceKey})
         CREATE (a)-[:DERIVES_FROM {statementId: r.statementId}]->(b)`,
        {rows: list},
      )
    }
  }
}

/**
 * A graph as the release before namespaces wrote it lacks the `written` property of READS and WRITES too (it
 * came in the same release); a file gets it with its next ingest. So a migrated graph equals a fresh write
 * without that property.
 */
/**
 * What a release before namespaces never wrote, so a migrated graph lacks it until each file is written again:
 * `written` on READS and WRITES, and a Statement's `fingerprint` (graph/rows withFingerprints).
 */
function withoutWritten(g: Snapshot): Snapshot {
  const strip = (rel: string): string => {
    const r = JSON.parse(rel) as {type: string; props: Record<string, unknown>}
    if (r.type !== 'READS' && r.type !== 'WRITES') return rel
    delete r.props.written
    return JSON.stringify(r)
  }
  const stripNode = (node: string): string => {
    const n = JSON.parse(node) as {labels: string[]; props: Record<string, unknown>}
    if (!n.labels.includes('Statement')) return node
    delete n.props.fingerprint
    return JSON.stringify(n)
  }
  return {nodes: g.nodes.map(stripNode).sort(), relationships: g.relationships.map(strip).sort()}
}

async function constraintNames(neo: Neo4jContext): Promise<string[]> {
  const rows = await neo.query("SHOW CONSTRAINTS YIELD name WHERE name STARTS WITH 'lineage_sqlfile' RETURN name")
  const statements = await neo.query(
    "SHOW CONSTRAINTS YIELD name WHERE name STARTS WITH 'lineage_statement' RETURN name",
  )
  return [...rows, ...statements].map((r) => String(r.name)).sort()
}

describe('namespaces: migrating a graph written before them', function () {
  this.timeout(120_000)
  const neo = useNeo4j()
  const NS = 'file://host/srv/repo'

  const connect = () => GraphWriter.connect(neo.conn, {logger: silentLogger, namespace: NS})

  /** A fresh write of OPS in NS, by today's writer. */
  async function freshGraph() {
    await neo.cleanGraph()
    const w = await connect()
    try {
      expect((await w.apply(OPS, {batched: true})).failed).to.deep.equal([])
    } finally {
      await w.close()
    }
    return neo.graphSnapshot()
  }

  afterEach(async () => {
    // Leave the schema as the writer wants it for the suites that follow.
    await neo.cleanGraph()
    await (await connect()).close()
  })

  it('puts every SqlFile, Statement and DERIVES_FROM in the namespace and swaps the constraints', async () => {
    await writeOldFormat(neo)
    expect(await constraintNames(neo)).to.deep.equal(['lineage_sqlfile_path', 'lineage_statement_id'])
    await (await connect()).close()
    const migrated = await neo.graphSnapshot()
    expect(await constraintNames(neo)).to.deep.equal([
      'lineage_sqlfile_namespace_path',
      'lineage_statement_namespace_id',
    ])
    const fresh = withoutWritten(await freshGraph())
    expectSameGraph(migrated, fresh)

    // Twice: nothing to do, nothing changed.
    await neo.cleanGraph()
    await writeOldFormat(neo)
    await (await connect()).close()
    const once = await neo.graphSnapshot()
    await (await connect()).close()
    expect(await migrateNamespaces(neo.driver, {}, 'another')).to.deep.equal({
      files: 0,
      statements: 0,
      derives: 0,
      droppedConstraints: [],
    })
    expect(await neo.graphSnapshot()).to.deep.equal(once)
    expectSameGraph(once, fresh)
  })

  it('resumes a migration stopped half way; the migrated graph then takes writes as a fresh one does', async () => {
    const next: GraphOp[] = [
      upsert('etl/a.sql', [stmt(0, {sources: ['raw.q'], targets: ['stg.t']})], 'h2'),
      {op: 'retract', path: 'etl/b#1.sql', at: 'T'},
    ]
    await writeOldFormat(neo)
    // Stopped after the edges: the statements and files have no namespace yet, the old constraints exist.
    const session = neo.driver.session()
    try {
      await session.run(MIGRATE.derives, {namespace: NS})
    } finally {
      await session.close()
    }
    const w = await connect()
    let migrated, migratedThenWritten
    try {
      migrated = await neo.graphSnapshot()
      expect((await w.apply(next, {batched: true})).failed).to.deep.equal([])
      migratedThenWritten = await neo.graphSnapshot()
    } finally {
      await w.close()
    }
    expectSameGraph(migrated, withoutWritten(await freshGraph()))
    const f = await connect()
    try {
      expect((await f.apply(next, {batched: true})).failed).to.deep.equal([])
    } finally {
      await f.close()
    }
    expectSameGraph(migratedThenWritten, await neo.graphSnapshot())
  })
})

describe('namespaces: retry-failed', function () {
  this.timeout(120_000)
  const neo = useNeo4j()
  const tmp = useTmpDir({prefix: 'lineage-ns-retry-'})

  it('replays each entry into its namespace, and one from before namespaces into the current one', async () => {
    const file = join(tmp.dir, 'failed_ingestion.jsonl')
    const op = (tag: string) => upsert('etl/daily.sql', [stmt(0, {sources: [`raw.${tag}`], targets: ['mart.d']})])
    await appendFailures(file, [
      {op: op('a'), namespace: 'repo-a', code: 'E_NEO4J_UNAVAILABLE', error: 'down'},
      {op: op('b'), namespace: 'repo-b', code: 'E_NEO4J_UNAVAILABLE', error: 'down'},
    ])
    // A line as the release before namespaces wrote it: no namespace.
    await appendFailures(file, [{op: {...op('old'), path: 'old.sql'}, code: 'E_NEO4J_UNAVAILABLE', error: 'down'}])
    expect(readFileSync(file, 'utf8').split('\n')[2]).to.not.include('namespace')
    const result = await retryFailed({
      file,
      namespace: 'current',
      openWriter: () => GraphWriter.connect(neo.conn, {logger: silentLogger, namespace: 'current'}),
      batched: true,
      batchSize: 10,
      dryRun: false,
      logger: silentLogger,
    })
    expect(result).to.deep.include({replayed: 3, remaining: 0})
    expect(await files(neo)).to.deep.equal(['current old.sql', 'repo-a etl/daily.sql', 'repo-b etl/daily.sql'])
    const reads = await neo.query(
      `MATCH (f:SqlFile)-[:CONTAINS]->(:Statement)-[:READS]->(t:Table)
       RETURN f.namespace AS ns, t.name AS t ORDER BY ns`,
    )
    expect(reads).to.deep.equal([
      {ns: 'current', t: 'raw.old'},
      {ns: 'repo-a', t: 'raw.a'},
      {ns: 'repo-b', t: 'raw.b'},
    ])
  })
})

describe('namespaces: trace and impact on Neo4j', function () {
  this.timeout(60_000)
  const neo = useNeo4j()

  it("trace follows every namespace's edges, naming a foreign file by namespace; impact reads its own", async () => {
    // The same path in two namespaces, each deriving mart.x from a different table.
    for (const [namespace, source] of [
      ['a', 'raw.a'],
      ['b', 'raw.b'],
    ] as const) {
      const w = await GraphWriter.connect(neo.conn, {logger: silentLogger, namespace})
      try {
        await w.apply([upsert('etl/x.sql', [stmt(0, {sources: [source], targets: ['mart.x']})])], {batched: true})
      } finally {
        await w.close()
      }
    }
    const graph = await Neo4jGraph.open(neo.conn, 'a')
    try {
      const upstream = await graph.edges('table', ['mart.x'], 'upstream')
      expect(upstream.map((e) => `${e.source} ${e.file}`).sort()).to.deep.equal([
        'raw.a etl/x.sql',
        'raw.b b/etl/x.sql',
      ])
      const own = await graph.fileEdges('table', ['etl/x.sql'])
      expect(own.get('etl/x.sql')?.map((e) => e.source)).to.deep.equal(['raw.a'])
    } finally {
      await graph.close()
    }
  })
})
