import {expect} from 'chai'

import {silentLogger} from '../../src/core/index.js'
import {GraphWriter} from '../../src/core/graph/writer.js'
import {extractLineage} from '../../src/core/sql/index.js'
import {TEST_NAMESPACE, upsert, useNeo4j} from '../helpers/neo4j.js'

// Issue 15: with a default schema, `orders` in one file and `sales.orders` in another are one table, so
// the lineage runs through it instead of breaking into two nodes.
describe('default schema joins the graph (integration)', () => {
  const ctx = useNeo4j()

  it('writes orders and sales.orders as one Table node under --default-schema sales', async () => {
    const files = {
      'load.sql': 'INSERT INTO orders SELECT id, amount FROM raw.orders_feed',
      'report.sql': 'INSERT INTO mart.daily SELECT id, amount FROM sales.orders',
    }
    const ops = Object.entries(files).map(([path, sql]) =>
      upsert(path, extractLineage(sql, {path, dialect: 'ansi', defaultSchema: 'sales'}).statements),
    )
    const writer = await GraphWriter.connect(ctx.conn, {logger: silentLogger, namespace: TEST_NAMESPACE})
    try {
      await writer.apply(ops, {batched: true})
    } finally {
      await writer.close()
    }
    const tables = await ctx.query('MATCH (t:Table) RETURN t.name AS name ORDER BY name')
    expect(tables.map((r) => r.name)).to.deep.equal(['mart.daily', 'raw.orders_feed', 'sales.orders'])
    const path = await ctx.query(
      'MATCH (:Table {name: $to})-[:DERIVES_FROM]->(:Table {name: $via})-[:DERIVES_FROM]->(:Table {name: $from}) RETURN count(*) AS n',
      {to: 'mart.daily', via: 'sales.orders', from: 'raw.orders_feed'},
    )
    expect(Number(path[0]?.n)).to.equal(1)
  })

  // The graph's key is the resolved name (Snowflake folds unquoted names to upper case and keeps quoted
  // ones); the name as each statement wrote it is a property of its READS or WRITES, in both write modes.
  for (const batched of [true, false]) {
    it(`keeps the name as written on READS and WRITES (${batched ? 'batched' : 'one entity at a time'})`, async () => {
      const sql =
        'INSERT INTO Mart."Daily" SELECT id FROM Orders;\nINSERT INTO mart.summary SELECT id FROM SALES.orders'
      const lineage = extractLineage(sql, {path: 'case.sql', dialect: 'snowflake', defaultSchema: 'sales'})
      const writer = await GraphWriter.connect(ctx.conn, {logger: silentLogger, namespace: TEST_NAMESPACE})
      try {
        await writer.apply([upsert('case.sql', lineage.statements)], {batched})
      } finally {
        await writer.close()
      }
      const rels = await ctx.query(
        `MATCH (s:Statement)-[r:READS|WRITES]->(t:Table)
         RETURN s.index AS statement, type(r) AS rel, t.key AS key, r.written AS written ORDER BY statement, rel`,
      )
      expect(rels.map((r) => [Number(r.statement), r.rel, r.key, r.written])).to.deep.equal([
        [0, 'READS', 'SALES.ORDERS', 'Orders'],
        [0, 'WRITES', 'MART.Daily', 'Mart."Daily"'],
        [1, 'READS', 'SALES.ORDERS', 'SALES.orders'],
        [1, 'WRITES', 'MART.SUMMARY', 'mart.summary'],
      ])
    })
  }
})
