import {expect} from 'chai'

import {lineage, pairs} from './helpers.js'

describe('sql name resolution: default database and schema, USE and search_path', () => {
  it('qualifies bare names by the default schema, so orders and sales.orders are one table', () => {
    const f = lineage('INSERT INTO t SELECT o.a FROM orders o JOIN sales.orders p ON o.id = p.id', 'ansi', {
      defaultSchema: 'sales',
    })
    expect(f.sources).to.deep.equal(['sales.orders'])
    expect(f.targets).to.deep.equal(['sales.t'])
    expect(pairs(f)).to.deep.equal(['sales.orders.a -> sales.t.a'])
  })

  it('leaves names as written without defaults', () => {
    const f = lineage('INSERT INTO t SELECT a FROM orders')
    expect(f.sources).to.deep.equal(['orders'])
    expect(f.targets).to.deep.equal(['t'])
  })

  it('adds the default database to schema-qualified names only when both defaults are set', () => {
    const f = lineage('INSERT INTO mart.t SELECT a FROM orders', 'snowflake', {
      defaultDatabase: 'ANALYTICS',
      defaultSchema: 'sales',
    })
    expect(f.sources).to.deep.equal(['analytics.sales.orders'])
    expect(f.targets).to.deep.equal(['analytics.mart.t'])
  })

  it('applies USE to the statements after it, not before', () => {
    const f = lineage('INSERT INTO t0 SELECT a FROM s0;\nUSE mart;\nINSERT INTO t1 SELECT a FROM s1', 'mysql')
    expect(f.statements.map((s) => [s.kind, s.sources, s.targets])).to.deep.equal([
      ['INSERT', ['s0'], ['t0']],
      ['USE', [], []],
      ['INSERT', ['mart.s1'], ['mart.t1']],
    ])
  })

  it('reads USE SCHEMA db.s and USE DATABASE as Snowflake does', () => {
    const f = lineage(
      'USE DATABASE wh;\nUSE SCHEMA raw;\nINSERT INTO t SELECT a FROM s;\nUSE SCHEMA dw.core;\nINSERT INTO u SELECT a FROM v',
      'snowflake',
    )
    expect(f.targets).to.deep.equal(['dw.core.u', 'wh.raw.t'])
    expect(f.sources).to.deep.equal(['dw.core.v', 'wh.raw.s'])
  })

  it('applies SET search_path, first schema of the list', () => {
    const f = lineage('SET search_path TO mart, public;\nINSERT INTO t SELECT a FROM orders', 'postgres')
    expect(f.sources).to.deep.equal(['mart.orders'])
    expect(pairs(f)).to.deep.equal(['mart.orders.a -> mart.t.a'])
  })

  it('keeps temporary tables collapsing when they are qualified', () => {
    const f = lineage(
      'CREATE TEMPORARY TABLE tmp AS SELECT a FROM orders;\nINSERT INTO t SELECT a FROM tmp;\nDROP TABLE tmp',
      'mysql',
      {defaultSchema: 'mart'},
    )
    expect(f.sources).to.deep.equal(['mart.orders'])
    expect(f.targets).to.deep.equal(['mart.t'])
    expect(pairs(f)).to.deep.equal(['mart.orders.a -> mart.t.a'])
  })
})
