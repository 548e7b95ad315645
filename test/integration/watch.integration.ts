import {existsSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {readFailures} from '../../src/core/ingest/dead-letter.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {ALL_OFF, ingestOnce, ParseTally, runService, serviceEnv, waitFor, writeSql} from '../helpers/service.js'
import {castAroundSubqueries} from '../helpers/slow-sql.js'
import {useTmpDir} from '../helpers/tmp.js'

const TRADES = `CREATE TABLE stg.trades AS
  SELECT t.id, t.notional * fx.rate AS notional_usd FROM raw.trades t JOIN ref.fx fx ON fx.ccy = t.ccy;
INSERT INTO mart.daily (id, total) SELECT id, SUM(notional_usd) FROM stg.trades GROUP BY id;`
const POSITIONS = `INSERT INTO mart.positions (book, qty) SELECT p.book, p.qty FROM raw.positions p;`

describe('lineage watch: a folder of SQL files becomes the graph (chokidar, SQLite, Neo4j)', function () {
  this.timeout(60_000)
  const neo = useNeo4j()
  const tmp = useTmpDir()

  const tablesOf = async (path: string) =>
    (
      await neo.query(
        `MATCH (:SqlFile {path: $path})-[:CONTAINS]->(s:Statement)-[r:READS|WRITES]->(t:Table)
         RETURN s.index AS i, type(r) AS rel, t.name AS table ORDER BY i, rel, table`,
        {path},
      )
    ).map((r) => `${String(r.i)} ${String(r.rel)} ${String(r.table)}`)

  it('ingests files, replaces a file lineage on edit, retracts it on delete', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    writeSql(env.LINEAGE_RAW_DIR!, 'etl/trades.sql', TRADES)
    const service = await runService(env)
    try {
      await waitFor('trades.sql in the graph', async () => (await tablesOf('etl/trades.sql')).length === 5)
      expect(await tablesOf('etl/trades.sql')).to.deep.equal([
        '0 READS raw.trades',
        '0 READS ref.fx',
        '0 WRITES stg.trades',
        '1 READS stg.trades',
        '1 WRITES mart.daily',
      ])
      const columns = await neo.query(
        `MATCH (s:Column)-[:DERIVES_FROM]->(t:Column) RETURN s.id AS from, t.id AS to ORDER BY from, to`,
      )
      expect(columns.length).to.be.greaterThan(0)
      expect(existsSync(join(env.LINEAGE_OUT_DIR!, 'etl/trades.sql.lineage.json'))).to.equal(true)

      // Edit: the file now writes somewhere else; the old statements and tables must go.
      writeSql(env.LINEAGE_RAW_DIR!, 'etl/trades.sql', POSITIONS)
      await waitFor(
        'the edit in the graph',
        async () => (await tablesOf('etl/trades.sql')).join() === '0 READS raw.positions,0 WRITES mart.positions',
      )
      const stale = await neo.query(
        `MATCH (t:Table) WHERE t.name IN ['stg.trades', 'mart.daily', 'ref.fx'] RETURN t.name AS n`,
      )
      expect(stale).to.deep.equal([])

      // Delete: everything the file produced is retracted.
      rmSync(join(env.LINEAGE_RAW_DIR!, 'etl/trades.sql'))
      await waitFor('the retraction', async () => (await neo.query('MATCH (n) RETURN count(n) AS n'))[0]?.n === 0)
      expect(existsSync(join(env.LINEAGE_OUT_DIR!, 'etl/trades.sql.lineage.json'))).to.equal(false)
    } finally {
      await service.stop()
    }
  })

  it('reconciles at start what changed, appeared or vanished while it was stopped', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    const raw = env.LINEAGE_RAW_DIR!
    writeSql(raw, 'a.sql', TRADES)
    writeSql(raw, 'b.sql', POSITIONS)
    writeSql(raw, 'c.sql', 'INSERT INTO x.c SELECT * FROM x.src_c;')
    expect((await ingestOnce(env)).files).to.equal(3)

    // While stopped: one edited, one deleted, one added, one untouched.
    writeSql(raw, 'a.sql', 'INSERT INTO x.a2 SELECT id FROM x.src_a2;')
    rmSync(join(raw, 'b.sql'))
    writeSql(raw, 'd.sql', 'INSERT INTO x.d SELECT id FROM x.src_d;')
    const second = await ingestOnce(env)
    expect([second.files, second.removed]).to.deep.equal([2, 1])
    const afterRestart = await neo.graphSnapshot()

    // It must equal a clean ingestion of the folder as it now is.
    await neo.cleanGraph()
    const clean = serviceEnv(join(tmp.dir, 'clean'), {NEO4J_URI: neo.uri, LINEAGE_RAW_DIR: raw})
    await ingestOnce(clean)
    expect(afterRestart).to.deep.equal(await neo.graphSnapshot())
  })

  it('baseline (all flags off) is sequential, uncached, unbatched and one transaction per entity', async () => {
    const files = 6
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, ...ALL_OFF})
    for (let i = 0; i < files; i++)
      writeSql(env.LINEAGE_RAW_DIR!, `f${i}.sql`, TRADES.replaceAll('mart.daily', `mart.daily_${i}`))
    const baseParses = new ParseTally()
    const base = await ingestOnce(env, {observer: baseParses.observer})
    expect(baseParses.main).to.equal(files)
    expect(baseParses.worker).to.equal(0)
    expect(baseParses.peak).to.equal(1)
    expect(base.stats.batches).to.equal(files)
    expect(base.stats.cacheHits + base.stats.cacheMisses).to.equal(0)
    expect(existsSync(env.LINEAGE_CACHE_FILE!)).to.equal(false)
    const entities = (await neo.query('MATCH (n) RETURN count(n) AS n'))[0]?.n as number
    const rels = (await neo.query('MATCH ()-[r]->() RETURN count(r) AS n'))[0]?.n as number
    // One transaction per node and per relationship (plus each file's replacement delete).
    expect(base.stats.transactions).to.be.at.least(entities + rels)
    const baselineGraph = await neo.graphSnapshot()

    // Everything on: a pool, batches, the cache, a few transactions; the same graph.
    await neo.cleanGraph()
    const on = serviceEnv(join(tmp.dir, 'on'), {NEO4J_URI: neo.uri, LINEAGE_RAW_DIR: env.LINEAGE_RAW_DIR})
    const fastParses = new ParseTally()
    const fast = await ingestOnce(on, {observer: fastParses.observer})
    expect(fastParses.worker).to.equal(files)
    expect(fastParses.peak).to.be.greaterThan(1)
    expect(fast.stats.batches).to.equal(1)
    expect(fast.stats.cacheMisses).to.equal(files)
    expect(fast.stats.transactions).to.be.lessThan(5)
    expect(await neo.graphSnapshot()).to.deep.equal(baselineGraph)

    // A new start leaves files whose content the ledger already holds alone...
    const restart = await ingestOnce(on)
    expect([restart.stats.files, restart.stats.transactions]).to.deep.equal([0, 0])
    // ...but --reingest writes every one again (its lineage may differ now: new defaults, a new extractor, a
    // graph restored from an old backup), from the cache when the content and defaults are the same...
    const again = await ingestOnce(on, {reingest: true})
    expect([again.stats.unchanged, again.stats.cacheHits, again.stats.cacheMisses]).to.deep.equal([0, files, 0])
    expect(again.stats.transactions).to.be.greaterThan(0)
    expect(await neo.graphSnapshot()).to.deep.equal(baselineGraph)
    // ...and with a fresh ledger the same content is a cache hit, not a parse.
    const freshLedger = serviceEnv(join(tmp.dir, 'on2'), {
      NEO4J_URI: neo.uri,
      LINEAGE_RAW_DIR: env.LINEAGE_RAW_DIR,
      LINEAGE_CACHE_FILE: on.LINEAGE_CACHE_FILE,
    })
    const cached = await ingestOnce(freshLedger)
    expect([cached.stats.cacheHits, cached.stats.cacheMisses]).to.deep.equal([files, 0])
  })

  it('keeps running when Neo4j goes away mid-ingest: failures go to the JSONL, nothing else is lost', async () => {
    const {startProxy} = await import('../helpers/neo4j.js')
    const proxy = await startProxy(neo.uri)
    const env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri, BATCH_SIZE_THRESHOLD: '2'})
    const raw = env.LINEAGE_RAW_DIR!
    const service = await runService(env)
    try {
      writeSql(raw, 'before.sql', TRADES)
      await waitFor('before.sql in the graph', async () => (await tablesOf('before.sql')).length === 5)
      // Seen in the graph is not yet done: the commit's acknowledgement may still be on its way to the service.
      // Cut then, that write's outcome is unknown to the service and it is (rightly) kept as failed too.
      await waitFor(
        'before.sql recorded by the service',
        () => service.stats.batches >= 1 && service.stats.inFlight === 0,
      )
      await proxy.down()
      for (let i = 0; i < 4; i++) writeSql(raw, `during${i}.sql`, POSITIONS.replace('mart.positions', `mart.p${i}`))
      await waitFor('4 failures recorded', () => readFailures(env.LINEAGE_FAILED_FILE!).entries.length >= 4, 30_000)
      // Still running: the health endpoint answers and reports the outage.
      const health = (await (await fetch(`http://127.0.0.1:${service.metricsPort}/healthz`)).json()) as {
        status: string
        problems: string[]
      }
      expect(health.status).to.equal('degraded')
      expect(health.problems.join()).to.match(/Neo4j/)
      await proxy.up()
      // The writer fails fast for 5 s after a connectivity failure (its fail-fast window, graph/health.ts); then it tries again.
      await new Promise((r) => setTimeout(r, 5500))
      writeSql(raw, 'after.sql', POSITIONS.replace('mart.positions', 'mart.after'))
      await waitFor('after.sql in the graph', async () => (await tablesOf('after.sql')).length === 2, 30_000)
      const failed = readFailures(env.LINEAGE_FAILED_FILE!)
        .entries.map((e) => e.path)
        .sort()
      expect(failed).to.deep.equal(['during0.sql', 'during1.sql', 'during2.sql', 'during3.sql'])
      for (const path of failed) expect(existsSync(join(env.LINEAGE_OUT_DIR!, `${path}.lineage.json`))).to.equal(true)
    } finally {
      await service.stop()
      await proxy.close()
    }
  })

  it('stores a Cypher-injection table name verbatim and harms nothing', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    writeSql(env.LINEAGE_RAW_DIR!, 'keep.sql', POSITIONS)
    writeSql(
      env.LINEAGE_RAW_DIR!,
      'evil.sql',
      "INSERT INTO `x}) DETACH DELETE (n` SELECT a FROM `y'); MATCH (m) DETACH DELETE m RETURN 1 --`;",
    )
    const summary = await ingestOnce(env, {})
    expect(summary.failed).to.equal(0)
    const names = (await neo.query('MATCH (t:Table) RETURN t.name AS n ORDER BY n')).map((r) => r.n)
    // Quoted names keep their case (docs/identifier-case.md).
    expect(names).to.include('x}) DETACH DELETE (n')
    expect(names).to.include("y'); MATCH (m) DETACH DELETE m RETURN 1 --")
    expect(await tablesOf('keep.sql')).to.deep.equal(['0 READS raw.positions', '0 WRITES mart.positions'])
  })

  it('survives a parse cache overwritten with random bytes under the running service', async () => {
    const env = serviceEnv(tmp.dir, {})
    const raw = env.LINEAGE_RAW_DIR!
    writeSql(raw, 'one.sql', TRADES)
    const service = await runService(env)
    try {
      await waitFor('one.sql ingested', () => service.stats.files === 1)
      writeFileSync(env.LINEAGE_CACHE_FILE!, Buffer.alloc(64 * 1024, 7))
      writeSql(raw, 'two.sql', POSITIONS)
      writeSql(raw, 'three.sql', TRADES.replaceAll('stg.', 'stg3.'))
      await waitFor('two more ingested', () => service.stats.files === 3)
      const out = JSON.parse(readFileSync(join(env.LINEAGE_OUT_DIR!, 'two.sql.lineage.json'), 'utf8')) as {
        lineage: {targets: string[]}
      }
      expect(out.lineage.targets).to.deep.equal(['mart.positions'])
      expect(service.stats.failed).to.equal(0)
    } finally {
      await service.stop()
    }
  })

  it('a parse over the time limit fails that file with a reason; the pool recovers and the others go through', async () => {
    const env = serviceEnv(tmp.dir, {LINEAGE_PARSE_TIMEOUT_SECONDS: '0.5'})
    const raw = env.LINEAGE_RAW_DIR!
    // A statement whose grammar parse runs for minutes (and that the token fast path does not take).
    writeSql(raw, 'slow.sql', `${castAroundSubqueries(12)};`)
    for (let i = 0; i < 4; i++) writeSql(raw, `ok${i}.sql`, POSITIONS)
    const started = Date.now()
    const summary = await ingestOnce(env)
    expect(Date.now() - started).to.be.lessThan(20_000)
    expect(summary.failed).to.equal(1)
    expect(summary.files).to.equal(5)
    const slow = JSON.parse(readFileSync(join(env.LINEAGE_OUT_DIR!, 'slow.sql.lineage.json'), 'utf8')) as {
      lineage: {errors: {code: string; message: string}[]}
    }
    expect(slow.lineage.errors[0]?.code).to.equal('E_PARSE_TIMEOUT')
    expect(readFileSync(env.LINEAGE_LOG_FILE!, 'utf8')).to.match(/slow\.sql: parsing took longer than the limit/)
  })

  it('treats a rename as a retraction of the old path and an ingest of the new one', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    const raw = env.LINEAGE_RAW_DIR!
    writeSql(raw, 'old.sql', POSITIONS)
    const service = await runService(env)
    try {
      await waitFor('old.sql in the graph', async () => (await tablesOf('old.sql')).length === 2)
      renameSync(join(raw, 'old.sql'), join(raw, 'new.sql'))
      await waitFor('new.sql in the graph', async () => (await tablesOf('new.sql')).length === 2)
      await waitFor('old.sql retracted', async () => (await tablesOf('old.sql')).length === 0)
    } finally {
      await service.stop()
    }
  })
})
