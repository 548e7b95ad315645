import {expect} from 'chai'

import {isLineageError, silentLogger} from '../../src/core/index.js'
import {entityCount, fileRows, type GraphOp, prepareOp} from '../../src/core/graph/model.js'
import {GraphHealth} from '../../src/core/graph/health.js'
import {GraphWriter} from '../../src/core/graph/writer.js'
import {type Neo4jContext, startProxy, stmt, TEST_NAMESPACE, upsert, useNeo4j} from '../helpers/neo4j.js'

/** Three files: a loads raw into staging, b builds a mart from staging, c reports from the mart. */
function corpus(): GraphOp[] {
  return [
    upsert('etl/a.sql', [
      stmt(0, {
        sources: ['raw.orders', 'raw.customers'],
        targets: ['stg.orders'],
        columns: [
          {target: 'stg.orders.id', sources: ['raw.orders.id']},
          {target: 'stg.orders.customer', sources: ['raw.customers.name', '?.nickname'], unresolved: true},
          {target: 'stg.orders.loaded', sources: []},
        ],
      }),
    ]),
    upsert('etl/b.sql', [
      stmt(0, {kind: 'CREATE TABLE', targets: ['mart.orders']}),
      stmt(1, {
        sources: ['stg.orders', 'ref.currency'],
        targets: ['mart.orders'],
        columns: [
          {target: 'mart.orders.id', sources: ['stg.orders.id']},
          {target: 'mart.orders.total', sources: ['stg.orders.amount', 'ref.currency.rate']},
        ],
      }),
    ]),
    upsert('report/c.sql', [
      stmt(0, {
        kind: 'SELECT',
        sources: ['mart.orders', 'raw.customers'],
        targets: ['report.daily'],
        columns: [
          {target: 'report.daily.n', sources: []},
          {target: 'report.daily.id', sources: ['mart.orders.id']},
        ],
      }),
    ]),
  ]
}

async function withWriter<T>(ctx: Neo4jContext, fn: (w: GraphWriter) => Promise<T>, uri = ctx.uri): Promise<T> {
  const writer = await GraphWriter.connect({...ctx.conn, uri}, {logger: silentLogger, namespace: TEST_NAMESPACE})
  try {
    return await fn(writer)
  } finally {
    await writer.close()
  }
}

async function cleanIngestion(
  ctx: Neo4jContext,
  ops: GraphOp[],
): Promise<Awaited<ReturnType<Neo4jContext['graphSnapshot']>>> {
  await ctx.cleanGraph()
  await withWriter(ctx, async (w) => {
    const r = await w.apply(ops, {batched: true})
    expect(r.failed).to.deep.equal([])
  })
  const snap = await ctx.graphSnapshot()
  await ctx.cleanGraph()
  return snap
}

describe('GraphWriter (real Neo4j)', function () {
  this.timeout(60_000)
  const ctx = useNeo4j()

  for (const batched of [true, false]) {
    const mode = batched ? 'batched' : 'single'

    it(`${mode}: writes the nodes and relationships of a few files`, async () => {
      await withWriter(ctx, async (w) => {
        const r = await w.apply(corpus(), {batched})
        expect(r.failed).to.deep.equal([])
        expect(r.written.map((o) => o.path)).to.deep.equal(['etl/a.sql', 'etl/b.sql', 'report/c.sql'])
      })
      const files = await ctx.query(
        'MATCH (f:SqlFile) RETURN f.path AS path, f.contentHash AS hash, f.dialect AS dialect ORDER BY path',
      )
      expect(files).to.deep.equal([
        {path: 'etl/a.sql', hash: 'hash-of-etl/a.sql', dialect: 'ansi'},
        {path: 'etl/b.sql', hash: 'hash-of-etl/b.sql', dialect: 'ansi'},
        {path: 'report/c.sql', hash: 'hash-of-report/c.sql', dialect: 'ansi'},
      ])
      const contains = await ctx.query(
        `MATCH (f:SqlFile)-[:CONTAINS]->(s:Statement)
         RETURN f.path + ' ' + s.id + ' ' + s.index + ' ' + s.kind + ' ' + s.line AS e ORDER BY e`,
      )
      expect(contains.map((r) => r.e)).to.deep.equal([
        'etl/a.sql etl/a.sql#0 0 INSERT 1',
        'etl/b.sql etl/b.sql#0 0 CREATE TABLE 1',
        'etl/b.sql etl/b.sql#1 1 INSERT 4',
        'report/c.sql report/c.sql#0 0 SELECT 1',
      ])
      const access = await ctx.query(
        `MATCH (s:Statement)-[r:READS|WRITES]->(t:Table) RETURN s.id + ' ' + type(r) + ' ' + t.name AS e ORDER BY e`,
      )
      expect(access.map((r) => r.e)).to.deep.equal([
        'etl/a.sql#0 READS raw.customers',
        'etl/a.sql#0 READS raw.orders',
        'etl/a.sql#0 WRITES stg.orders',
        'etl/b.sql#0 WRITES mart.orders',
        'etl/b.sql#1 READS ref.currency',
        'etl/b.sql#1 READS stg.orders',
        'etl/b.sql#1 WRITES mart.orders',
        'report/c.sql#0 READS mart.orders',
        'report/c.sql#0 READS raw.customers',
        'report/c.sql#0 WRITES report.daily',
      ])
      const tableLineage = await ctx.query(
        `MATCH (a:Table)-[r:DERIVES_FROM]->(b:Table) RETURN a.name + ' <- ' + b.name + ' @' + r.statementId AS e
         ORDER BY e`,
      )
      expect(tableLineage.map((r) => r.e)).to.deep.equal([
        'mart.orders <- ref.currency @etl/b.sql#1',
        'mart.orders <- stg.orders @etl/b.sql#1',
        'report.daily <- mart.orders @report/c.sql#0',
        'report.daily <- raw.customers @report/c.sql#0',
        'stg.orders <- raw.customers @etl/a.sql#0',
        'stg.orders <- raw.orders @etl/a.sql#0',
      ])
      const columnLineage = await ctx.query(
        `MATCH (a:Column)-[r:DERIVES_FROM]->(b:Column) RETURN a.id + ' <- ' + b.id + ' @' + r.statementId AS e
         ORDER BY e`,
      )
      expect(columnLineage.map((r) => r.e)).to.deep.equal([
        'mart.orders.id <- stg.orders.id @etl/b.sql#1',
        'mart.orders.total <- ref.currency.rate @etl/b.sql#1',
        'mart.orders.total <- stg.orders.amount @etl/b.sql#1',
        'report.daily.id <- mart.orders.id @report/c.sql#0',
        'stg.orders.customer <- raw.customers.name @etl/a.sql#0',
        'stg.orders.id <- raw.orders.id @etl/a.sql#0',
      ])
      const columns = await ctx.query(
        'MATCH (t:Table)-[:HAS_COLUMN]->(c:Column) RETURN t.name + ' + "' ' + c.name + ' ' + c.id AS e ORDER BY e",
      )
      expect(columns.map((r) => r.e)).to.deep.equal([
        'mart.orders id mart.orders.id',
        'mart.orders total mart.orders.total',
        'raw.customers name raw.customers.name',
        'raw.orders id raw.orders.id',
        'ref.currency rate ref.currency.rate',
        'report.daily id report.daily.id',
        'report.daily n report.daily.n',
        'stg.orders amount stg.orders.amount',
        'stg.orders customer stg.orders.customer',
        'stg.orders id stg.orders.id',
        'stg.orders loaded stg.orders.loaded',
      ])
      const [a] = await ctx.query(
        "MATCH (s:Statement {id: 'etl/a.sql#0'}) RETURN s.unresolvedColumns AS u, s.status AS status",
      )
      expect(a).to.deep.equal({u: ['["stg.orders.customer","?.nickname"]'], status: 'ok'})
    })

    it(`${mode}: the same ops give the same graph in both modes, and writing twice changes nothing`, async () => {
      const clean = await cleanIngestion(ctx, corpus())
      await withWriter(ctx, async (w) => {
        await w.apply(corpus(), {batched})
        await w.apply(corpus(), {batched})
      })
      expect(await ctx.graphSnapshot()).to.deep.equal(clean)
    })

    it(`${mode}: re-upserting a file replaces what it produced before`, async () => {
      const [a, b, c] = corpus() as [GraphOp, GraphOp, GraphOp]
      const b2 = upsert(
        'etl/b.sql',
        [
          stmt(0, {
            sources: ['stg.orders'],
            targets: ['mart.orders_v2'],
            columns: [{target: 'mart.orders_v2.k', sources: []}],
          }),
        ],
        'hash-b2',
      )
      const expected = await cleanIngestion(ctx, [a, b2, c])
      await withWriter(ctx, async (w) => {
        expect((await w.apply([a, b, c], {batched})).failed).to.deep.equal([])
        expect((await w.apply([b2], {batched})).failed).to.deep.equal([])
      })
      expect(await ctx.graphSnapshot()).to.deep.equal(expected)
      // mart.orders.id stays (c still derives from it) but lost the DERIVES_FROM that b's old statement made;
      // what only b referenced is gone.
      const left = await ctx.query("MATCH (:Column {id: 'mart.orders.id'})-[r:DERIVES_FROM]->() RETURN count(r) AS n")
      expect(left).to.deep.equal([{n: 0}])
      expect(await ctx.query("MATCH (t:Table {name: 'ref.currency'}) RETURN t")).to.deep.equal([])
      expect(
        await ctx.query("MATCH (c:Column) WHERE c.id IN ['stg.orders.amount', 'mart.orders.total'] RETURN c"),
      ).to.deep.equal([])
    })

    it(`${mode}: a retraction removes the file, its statements, their edges and the orphans they leave`, async () => {
      const [a, b, c] = corpus() as [GraphOp, GraphOp, GraphOp]
      const expected = await cleanIngestion(ctx, [a, b])
      await withWriter(ctx, async (w) => {
        expect((await w.apply([a, b, c], {batched})).failed).to.deep.equal([])
        const r = await w.apply([{op: 'retract', path: 'report/c.sql', at: '2026-01-02T00:00:00Z'}], {batched})
        expect(r.failed).to.deep.equal([])
      })
      expect(await ctx.graphSnapshot()).to.deep.equal(expected)
      expect(await ctx.query("MATCH (t:Table {name: 'report.daily'}) RETURN t")).to.deep.equal([])
      expect(await ctx.query("MATCH (c:Column {id: 'report.daily.n'}) RETURN c")).to.deep.equal([])
    })

    it(`${mode}: retracting every file leaves an empty graph`, async () => {
      await withWriter(ctx, async (w) => {
        await w.apply(corpus(), {batched})
        const at = '2026-01-02T00:00:00Z'
        const r = await w.apply(
          corpus().map((o) => ({op: 'retract', path: o.path, at})),
          {batched},
        )
        expect(r.failed).to.deep.equal([])
      })
      expect(await ctx.graphSnapshot()).to.deep.equal({nodes: [], relationships: []})
    })

    it(`${mode}: hostile names are stored verbatim and harm nothing`, async () => {
      const hostile = [
        'x}) DETACH DELETE (n',
        'it\'s "quoted"',
        'back`tick`) MATCH (m) DETACH DELETE m //',
        'new\nline\r\ttab',
        'ünï©ødé 表',
        'L'.repeat(10_000),
        '$param {x: 1}',
      ]
      await ctx.query("CREATE (:Sentinel {name: 'still here'})")
      const path = "dir with 'quote'/a#1.sql"
      const op = upsert(path, [
        stmt(0, {
          sources: hostile.slice(0, 4),
          targets: hostile.slice(4),
          columns: [{target: `${hostile[5] ?? ''}.col\`umn'`, sources: [`${hostile[0] ?? ''}.a`]}],
        }),
      ])
      await withWriter(ctx, async (w) => {
        expect((await w.apply([op], {batched})).failed).to.deep.equal([])
        const names = await ctx.query('MATCH (t:Table) RETURN t.name AS name')
        expect(names.map((n) => n.name).sort()).to.deep.equal([...hostile].sort())
        const cols = await ctx.query('MATCH (c:Column) RETURN c.name AS name ORDER BY name')
        expect(cols.map((c) => c.name)).to.deep.equal(['a', "col`umn'"])
        expect(await ctx.query('MATCH (s:Sentinel) RETURN s.name AS name')).to.deep.equal([{name: 'still here'}])
        expect(await ctx.query('MATCH (f:SqlFile) RETURN f.path AS p')).to.deep.equal([{p: path}])
        await w.apply([{op: 'retract', path, at: '2026-01-02T00:00:00Z'}], {batched})
      })
      // Only the sentinel is left: the hostile file is fully retracted, and nothing else was touched.
      const snap = await ctx.graphSnapshot()
      expect(snap).to.deep.equal({nodes: ['{"labels":["Sentinel"],"props":{"name":"still here"}}'], relationships: []})
    })
  }

  it('a node it wrote before and another process deleted is written again (its hint is dropped)', async () => {
    // The writer leaves out Table and Column rows it wrote before (graph/known-nodes). Another process (a
    // retry-failed replaying retractions, say) deletes a and b, and with them the nodes only they named.
    const [a, b, c] = corpus() as [GraphOp, GraphOp, GraphOp]
    const retract = (op: GraphOp): GraphOp => ({op: 'retract', path: op.path, at: new Date().toISOString()})
    const expected = await cleanIngestion(ctx, [a, b, c])
    await withWriter(ctx, async (w) => {
      expect((await w.apply([a, b], {batched: true})).failed).to.deep.equal([])
      await withWriter(ctx, async (other) => {
        expect((await other.apply([retract(a), retract(b)], {batched: true})).failed).to.deep.equal([])
      })
      expect(await ctx.query("MATCH (c:Column {key: 'mart.orders.id'}) RETURN c")).to.deep.equal([])
      // c reads mart.orders and derives from mart.orders.id: "known" to w, both gone.
      expect((await w.apply([c], {batched: true})).failed).to.deep.equal([])
      expect((await w.apply([a, b], {batched: true})).failed).to.deep.equal([])
    })
    expect(await ctx.graphSnapshot()).to.deep.equal(expected)
  })

  it('writes a file again unchanged by keeping its statements, and an edit by replacing only what changed', async () => {
    const [a, b, c] = corpus() as [GraphOp, GraphOp, GraphOp]
    const b2 = upsert(
      'etl/b.sql',
      [
        stmt(0, {kind: 'CREATE TABLE', targets: ['mart.orders']}),
        stmt(1, {
          sources: ['stg.orders'],
          targets: ['mart.orders'],
          columns: [{target: 'mart.orders.id', sources: ['stg.orders.id']}],
        }),
      ],
      'hash-b2',
    )
    const expected = await cleanIngestion(ctx, [a, b2, c])
    const ids = async (): Promise<Map<string, string>> =>
      new Map(
        (await ctx.query('MATCH (s:Statement) RETURN s.id AS id, elementId(s) AS element')).map((r) => [
          String(r.id),
          String(r.element),
        ]),
      )
    await withWriter(ctx, async (w) => {
      expect((await w.apply([a, b, c], {batched: true})).failed).to.deep.equal([])
      const first = await ids()
      expect((await w.apply([a, b2, c], {batched: true})).failed).to.deep.equal([])
      const second = await ids()
      // Unchanged statements are the same nodes, not deleted and created again (b's statement 1 changed; the
      // snapshot below shows it was replaced).
      for (const id of ['etl/a.sql#0', 'etl/b.sql#0', 'report/c.sql#0']) {
        expect(second.get(id)).to.be.a('string').and.equal(first.get(id))
      }
    })
    expect(await ctx.graphSnapshot()).to.deep.equal(expected)
  })

  it('creates the uniqueness constraints at connect and reports missing ones', async () => {
    await withWriter(ctx, async (w) => {
      expect(await w.constraintsPresent()).to.deep.equal({ok: true, missing: []})
      await ctx.query('DROP CONSTRAINT lineage_column_key')
      expect(await w.constraintsPresent()).to.deep.equal({ok: false, missing: ['Column.key']})
    })
    await withWriter(ctx, async (w) => {
      expect((await w.constraintsPresent()).ok).to.equal(true)
    })
    const rows = await ctx.query('SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type RETURN *')
    const unique = rows
      .filter((r) => r.type === 'UNIQUENESS' || r.type === 'NODE_PROPERTY_UNIQUENESS')
      .map((r) => `${(r.labelsOrTypes as string[]).join()}.${(r.properties as string[]).join()}`)
      .sort()
    // SqlFile and Statement are keyed within their namespace (docs/namespaces.md).
    expect(unique).to.include.members(['Column.key', 'SqlFile.namespace,path', 'Statement.namespace,id', 'Table.key'])
    expect(unique).to.not.include.members(['SqlFile.path', 'Statement.id'])
  })

  it('baseline runs one transaction per entity (plus the replacement delete); batched one per batch', async () => {
    const ops = corpus()
    const entities = ops.reduce((n, o) => n + (o.op === 'upsert' ? entityCount(fileRows(o)) : 0), 0)
    const single = await withWriter(ctx, async (w) => {
      const r = await w.apply(ops, {batched: false})
      expect(w.stats.entities).to.equal(entities)
      return r.transactions
    })
    expect(single).to.equal(entities + ops.length)
    await ctx.cleanGraph()
    await withWriter(ctx, async (w) => {
      const r = await w.apply(ops, {batched: true})
      expect(r.transactions).to.equal(1)
      expect(w.stats).to.deep.include({transactions: 1, entities, failures: 0})
    })
    await ctx.cleanGraph()
    // A batch larger than maxEntitiesPerTx is split into several transactions of whole files.
    const writer = await GraphWriter.connect(ctx.conn, {
      logger: silentLogger,
      namespace: TEST_NAMESPACE,
      maxEntitiesPerTx: 20,
    })
    try {
      const r = await writer.apply(ops, {batched: true})
      expect(r.failed).to.deep.equal([])
      expect(r.transactions).to.equal(3)
    } finally {
      await writer.close()
    }
  })

  it('isolates a poisoned file in a batch: the others are written', async () => {
    const [a, , c] = corpus() as [GraphOp, GraphOp, GraphOp]
    // Neo4j cannot index a 9,000-character path (over its 8 KB key limit): that file fails, alone.
    const poisoned = upsert(`${'p'.repeat(9000)}.sql`, [stmt(0, {targets: ['t']})])
    await withWriter(ctx, async (w) => {
      const r = await w.apply([a, poisoned, c], {batched: true})
      expect(r.written.map((o) => o.path)).to.deep.equal(['etl/a.sql', 'report/c.sql'])
      expect(r.failed).to.have.length(1)
      expect(r.failed[0]?.op).to.equal(poisoned)
      expect(r.failed[0]?.code).to.equal('E_NEO4J_WRITE')
      expect(r.transactions).to.equal(4) // the batch, then each file alone
    })
    const paths = await ctx.query('MATCH (f:SqlFile) RETURN f.path AS p ORDER BY p')
    expect(paths).to.deep.equal([{p: 'etl/a.sql'}, {p: 'report/c.sql'}])
  })

  it('connect to a closed port throws E_NEO4J_UNAVAILABLE (69) quickly, without the password', async () => {
    const started = Date.now()
    const conn = {uri: 'bolt://127.0.0.1:1', user: 'neo4j', password: 'S3cret-Passw0rd', database: undefined}
    const error = await GraphWriter.connect(conn, {logger: silentLogger, namespace: TEST_NAMESPACE}).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(Date.now() - started).to.be.below(5000)
    expect(isLineageError(error)).to.equal(true)
    if (!isLineageError(error)) return
    expect(error.code).to.equal('E_NEO4J_UNAVAILABLE')
    expect(error.exit).to.equal(69)
    expect(`${error.message} ${error.hint ?? ''}`).not.to.include('S3cret')
    expect(error.hint).to.match(/NEO4J_URI/)
  })

  it('returns failures (never throws) when Neo4j goes away, fails fast while down, recovers', async () => {
    const proxy = await startProxy(ctx.uri)
    try {
      const health = new GraphHealth()
      const writer = await GraphWriter.connect(
        {...ctx.conn, uri: proxy.uri},
        {logger: silentLogger, namespace: TEST_NAMESPACE, acquisitionTimeoutMs: 1000, breakerMs: 1500, health},
      )
      expect(writer.health).to.equal(health)
      try {
        await proxy.down()
        let started = Date.now()
        const r = await writer.apply(corpus(), {batched: true})
        expect(Date.now() - started).to.be.below(5000)
        expect(r.written).to.deep.equal([])
        expect(r.failed.map((f) => f.code)).to.deep.equal(Array(3).fill('E_NEO4J_UNAVAILABLE'))
        expect(health.downReason).to.match(/Failed to connect|closed/)
        // Inside the fail-fast window: the next write fails at once, without trying.
        started = Date.now()
        const again = await writer.apply(corpus(), {batched: false})
        expect(Date.now() - started).to.be.below(200)
        expect(again.failed).to.have.length(3)
        expect((await writer.ping(1000)).ok).to.equal(false)
        await proxy.up()
        await new Promise((resolve) => setTimeout(resolve, 1600))
        const ok = await writer.apply(corpus(), {batched: true})
        expect(ok.failed).to.deep.equal([])
        expect(health.state.up).to.equal(true)
        expect((await writer.ping()).ok).to.equal(true)
      } finally {
        await writer.close()
      }
    } finally {
      await proxy.close()
    }
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, corpus()))
  })

  it('retries a connectivity blip shorter than its backoff instead of failing', async () => {
    // The blip must cut a transaction that is running: a connection refused before the work function starts
    // is retried by the driver too, but costs no transaction. So a lock held here keeps the batch waiting
    // inside its transaction (its HAS_COLUMN needs raw.orders) while the connection is cut.
    await ctx.query("CREATE (:Table {key: 'raw.orders', name: 'raw.orders'})")
    const proxy = await startProxy(ctx.uri)
    const holder = ctx.driver.session()
    try {
      const writer = await GraphWriter.connect(
        {...ctx.conn, uri: proxy.uri},
        {logger: silentLogger, namespace: TEST_NAMESPACE},
      )
      try {
        const lock = await holder.beginTransaction()
        await lock.run("MATCH (t:Table {key: 'raw.orders'}) SET t.locked = true")
        const writing = writer.apply(corpus(), {batched: true})
        await waitForBlockedTransaction(ctx)
        await proxy.down()
        await lock.rollback()
        setTimeout(() => void proxy.up(), 300)
        const r = await writing
        expect(r.failed).to.deep.equal([])
        expect(writer.stats.retries).to.be.at.least(1)
      } finally {
        await writer.close()
      }
    } finally {
      await holder.close()
      await proxy.close()
    }
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, corpus()))
  })

  it('a deadlock (a transient error) is retried by the driver and counted', async () => {
    // A lock cycle with a transaction of the test's own: it holds raw.orders; the batch creates its SqlFile
    // nodes, then waits for raw.orders; the test's transaction then MERGEs one of those SqlFiles. Neo4j 5
    // aborts the side holding fewer locks (the younger on a tie), so the test's transaction first locks 1,000
    // ballast nodes: the batch is the one to get Neo.TransientError.Transaction.DeadlockDetected.
    await ctx.query("CREATE (:Table {key: 'raw.orders', name: 'raw.orders'})")
    await ctx.query('UNWIND range(1, 1000) AS i CREATE (:Ballast {i: i})')
    const holder = ctx.driver.session()
    try {
      await withWriter(ctx, async (w) => {
        const other = await holder.beginTransaction()
        await other.run('MATCH (b:Ballast) SET b.locked = true')
        await other.run("MATCH (t:Table {key: 'raw.orders'}) SET t.locked = true")
        const writing = w.apply(corpus(), {batched: true})
        await waitForBlockedTransaction(ctx)
        await other.run("MERGE (:SqlFile {namespace: $ns, path: 'etl/a.sql'})", {ns: TEST_NAMESPACE}) // closes the cycle
        await other.rollback()
        const r = await writing
        expect(r.failed).to.deep.equal([])
        expect(r.transactions).to.equal(2)
        expect(w.stats).to.deep.include({transactions: 2, retries: 1, failures: 0})
        expect(w.health.state.up).to.equal(true)
      })
    } finally {
      await holder.close()
    }
    await ctx.query('MATCH (b:Ballast) DELETE b')
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, corpus()))
  })

  it('two writers of the same paths at once never duplicate a relationship (the path lock)', async function () {
    // The service catching up and a retry-failed in another process: each deletes the paths' statements,
    // then CREATEs their relationships. Without the lock both delete before either commits, and both create.
    this.timeout(180_000)
    const ops = [...corpus(), ...sharedFiles(8)]
    const expected = await cleanIngestion(ctx, ops)
    await withWriter(ctx, async (a) => {
      await withWriter(ctx, async (b) => {
        for (let round = 0; round < 20; round++) {
          // Alternate the order within a group too: the locks must be taken in one order whatever it is.
          const [ra, rb] = await Promise.all([
            a.apply(ops, {batched: true}),
            b.apply(round % 2 === 0 ? [...ops].reverse() : ops, {batched: true}),
          ])
          expect([...ra.failed, ...rb.failed]).to.deep.equal([])
          const duplicates = await ctx.query(
            `MATCH (x)-[r]->(y) WITH elementId(x) AS x, elementId(y) AS y, type(r) AS type,
               r.statementId AS statementId, count(*) AS n WHERE n > 1 RETURN count(*) AS pairs`,
          )
          expect(duplicates[0]?.pairs, `round ${round}: relationships written twice`).to.equal(0)
        }
      })
    })
    const relationships = await ctx.query('MATCH ()-[r]->() RETURN count(r) AS n')
    expect(relationships[0]?.n).to.equal(expected.relationships.length)
    expect(await ctx.query('MATCH (f:SqlFile) WHERE f.lineageLock IS NOT NULL RETURN f.path')).to.deep.equal([])
    expect(await ctx.graphSnapshot()).to.deep.equal(expected)
  })

  it('skipNewer leaves out, as superseded, an op older than the write the graph holds of its path', async () => {
    const at = (s: number): string => `2026-01-01T00:00:0${s}.000Z`
    const [a, b, c] = corpus()
    if (a?.op !== 'upsert' || b?.op !== 'upsert' || c?.op !== 'upsert') throw new Error('corpus changed')
    await withWriter(ctx, async (w) => {
      expect(
        (
          await w.apply(
            [
              {...a, ingestedAt: at(5)},
              {...b, ingestedAt: at(5)},
            ],
            {batched: true},
          )
        ).failed,
      ).to.be.empty
      const before = await ctx.graphSnapshot()
      const ops = [
        prepareOp({...a, ingestedAt: at(3), contentHash: 'older'}, TEST_NAMESPACE), // older than the graph's: left out
        prepareOp({op: 'retract', path: b.path, at: at(4)}, TEST_NAMESPACE), // older: left out
        prepareOp({...c, ingestedAt: at(1)}, TEST_NAMESPACE), // not in the graph: written
      ]
      const r = await w.applyPrepared(ops, {batched: true, skipNewer: true})
      expect(r.failed).to.deep.equal([])
      expect(r.superseded).to.deep.equal(ops.slice(0, 2))
      expect(r.written).to.deep.equal(ops.slice(2))
      const after = await ctx.graphSnapshot()
      expect(after.nodes).to.include.members(before.nodes)
      expect(after.relationships).to.include.members(before.relationships)
      // Newer than the graph's: written.
      const newer = prepareOp({...a, ingestedAt: at(7), contentHash: 'newer'}, TEST_NAMESPACE)
      expect((await w.applyPrepared([newer], {batched: true, skipNewer: true})).written).to.deep.equal([newer])
    })
    const files = await ctx.query('MATCH (f:SqlFile) RETURN f.path AS path, f.contentHash AS hash ORDER BY path')
    expect(files).to.deep.equal([
      {path: 'etl/a.sql', hash: 'newer'},
      {path: 'etl/b.sql', hash: 'hash-of-etl/b.sql'},
      {path: 'report/c.sql', hash: 'hash-of-report/c.sql'},
    ])
  })

  it('the path lock leaves nothing behind: a retraction of a path not in the graph adds no node', async () => {
    await withWriter(ctx, async (w) => {
      const r = await w.apply([{op: 'retract', path: 'never/was.sql', at: '2026-01-01T00:00:00.000Z'}, ...corpus()], {
        batched: true,
      })
      expect(r.failed).to.deep.equal([])
    })
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, corpus()))
  })
})

/** Files whose statements all read and write a few shared tables and columns (lock contention on them). */
function sharedFiles(n: number): GraphOp[] {
  return Array.from({length: n}, (_, i) =>
    upsert(`shared/f${i}.sql`, [
      stmt(0, {
        sources: ['raw.orders', `raw.part${i % 3}`],
        targets: ['stg.orders'],
        columns: [{target: 'stg.orders.id', sources: ['raw.orders.id', `raw.part${i % 3}.id`]}],
      }),
      stmt(1, {
        sources: ['stg.orders'],
        targets: [`mart.m${i}`],
        columns: [{target: `mart.m${i}.id`, sources: ['stg.orders.id']}],
      }),
    ]),
  )
}

/** Wait until Neo4j shows a transaction waiting for a lock. */
async function waitForBlockedTransaction(ctx: Neo4jContext): Promise<void> {
  for (const until = Date.now() + 20_000; Date.now() < until;) {
    const rows = await ctx.query("SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' RETURN status")
    if (rows.length > 0) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('no transaction blocked on a lock within 20 s')
}
