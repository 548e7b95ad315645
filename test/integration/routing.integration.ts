// A `neo4j://` (routing) URI, which a cluster or Aura needs (docs/scaling.md), works as well as `bolt://`: the
// driver fetches a routing table from the server, sends writes to its writer and routed reads to its readers,
// and the service's ingestion through it leaves the same graph as through a direct connection.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags as classes, yet documents and accepts plain objects. */
import {expect} from 'chai'
import neo4j from 'neo4j-driver'

import {useNeo4j} from '../helpers/neo4j.js'
import {ingestOnce, serviceEnv, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

const FILES: Record<string, string> = {
  'etl/trades.sql': `CREATE TABLE stg.trades AS
  SELECT t.id, t.notional * fx.rate AS notional_usd FROM raw.trades t JOIN ref.fx fx ON fx.ccy = t.ccy;
INSERT INTO mart.daily (id, total) SELECT id, SUM(notional_usd) FROM stg.trades GROUP BY id;`,
  'etl/positions.sql': 'INSERT INTO mart.positions (book, qty) SELECT p.book, p.qty FROM raw.positions p;',
}

describe('Neo4j through a neo4j:// routing URI', function () {
  this.timeout(60_000)
  const neo = useNeo4j()
  const tmp = useTmpDir()
  const routed = (): string => neo.uri.replace(/^bolt(\+s|\+ssc)?:/, 'neo4j$1:')

  it('the server gives a routing table whose writer and reader answer', async () => {
    expect(routed()).to.match(/^neo4j(\+s|\+ssc)?:\/\//)
    const {user, password, database} = neo.conn
    const driver = neo4j.driver(
      routed(),
      password === '' ? {scheme: 'none', credentials: ''} : neo4j.auth.basic(user, password),
    )
    try {
      const db = database === undefined ? {} : {database}
      const read = await driver.executeQuery('RETURN 1 AS one', {}, {...db, routing: neo4j.routing.READ})
      expect(read.records[0]?.get('one')).to.satisfy((v: unknown) => Number(v) === 1)
      const write = await driver.executeQuery(
        'CREATE (n:RoutingProbe {at: $at}) RETURN n.at AS at',
        {at: 'x'},
        {...db, routing: neo4j.routing.WRITE},
      )
      expect(write.records[0]?.get('at')).to.equal('x')
    } finally {
      await driver.close()
    }
  })

  it('watch --once through neo4j:// leaves the same graph as through bolt://', async () => {
    const ingest = async (uri: string, name: string) => {
      // One namespace for both: the default (the watched folder) differs between the two folders.
      const env = serviceEnv(`${tmp.dir}/${name}`, {NEO4J_URI: uri, LINEAGE_NAMESPACE: 'routing-test'})
      for (const [rel, sql] of Object.entries(FILES)) writeSql(env.LINEAGE_RAW_DIR!, rel, sql)
      const summary = await ingestOnce(env)
      expect(summary.failed).to.equal(0)
      expect(summary.graphFailures).to.equal(0)
      return neo.graphSnapshot()
    }
    const direct = await ingest(neo.uri, 'bolt')
    expect(direct.nodes.length).to.be.greaterThan(0)
    await neo.cleanGraph()
    const viaRouting = await ingest(routed(), 'routed')
    expect(viaRouting).to.deep.equal(direct)
  })
})
