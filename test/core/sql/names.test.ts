import {expect} from 'chai'

import {lineage, pairs, single} from './helpers.js'

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
    expect(f.sources).to.deep.equal(['ANALYTICS.SALES.ORDERS'])
    expect(f.targets).to.deep.equal(['ANALYTICS.MART.T'])
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
    expect(f.targets).to.deep.equal(['DW.CORE.U', 'WH.RAW.T'])
    expect(f.sources).to.deep.equal(['DW.CORE.V', 'WH.RAW.S'])
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

describe('sql name resolution: identifier case as each dialect resolves it', () => {
  const SQL = 'INSERT INTO Mart."Daily" SELECT "Amount", Region FROM Sales.Orders'
  // [dialect, target, source, column pairs]: unquoted folded as the dialect folds it, quoted kept where the
  // dialect keeps it (docs/identifier-case.md).
  const cases: [string, string, string, string][] = [
    ['postgres', 'mart.Daily', 'sales.orders', 'sales.orders.Amount -> mart.Daily.Amount'],
    ['ansi', 'mart.Daily', 'sales.orders', 'sales.orders.Amount -> mart.Daily.Amount'],
    ['snowflake', 'MART.Daily', 'SALES.ORDERS', 'SALES.ORDERS.Amount -> MART.Daily.Amount'],
    ['oracle', 'MART.Daily', 'SALES.ORDERS', 'SALES.ORDERS.Amount -> MART.Daily.Amount'],
    ['redshift', 'mart.daily', 'sales.orders', 'sales.orders.amount -> mart.daily.amount'],
    ['tsql', 'mart.daily', 'sales.orders', 'sales.orders.amount -> mart.daily.amount'],
  ]
  for (const [dialect, target, source, pair] of cases) {
    it(`${dialect}: ${target} <- ${source}`, () => {
      const f = lineage(SQL, dialect)
      expect(f.targets).to.deep.equal([target])
      expect(f.sources).to.deep.equal([source])
      expect(pairs(f)).to.include(pair)
    })
  }

  it('keeps MySQL and BigQuery table names as written and folds their columns', () => {
    const my = lineage('INSERT INTO Mart.Daily SELECT `Amount`, Region FROM sales.Orders', 'mysql')
    expect([my.sources, my.targets]).to.deep.equal([['sales.Orders'], ['Mart.Daily']])
    expect(pairs(my)).to.deep.equal([
      'sales.Orders.amount -> Mart.Daily.amount',
      'sales.Orders.region -> Mart.Daily.region',
    ])
    const bq = lineage('INSERT INTO `Proj.Mart.Daily` SELECT Amount FROM Proj.sales.Orders', 'bigquery')
    expect([bq.sources, bq.targets]).to.deep.equal([['Proj.sales.Orders'], ['Proj.Mart.Daily']])
    expect(pairs(bq)).to.deep.equal(['Proj.sales.Orders.amount -> Proj.Mart.Daily.amount'])
  })

  it('makes a quoted name the same table as the unquoted name it folds to, and no other', () => {
    const sf = lineage('INSERT INTO "ORDERS" SELECT a FROM s;\nINSERT INTO t SELECT a FROM orders', 'snowflake')
    expect(sf.sources).to.deep.equal(['S'])
    expect(sf.targets).to.deep.equal(['T'])
    const pg = lineage('INSERT INTO "Orders" SELECT a FROM s;\nINSERT INTO t SELECT a FROM Orders', 'postgres')
    expect(pg.statements.map((st) => [st.targets, st.sources])).to.deep.equal([
      [['Orders'], ['s']],
      [['t'], ['orders']],
    ])
    expect([pg.sources, pg.targets]).to.deep.equal([
      ['orders', 's'],
      ['Orders', 't'],
    ])
  })

  it('tells a table from an alias or column of the same letters written another way', () => {
    expect(pairs(lineage('INSERT INTO t SELECT "S".a FROM s AS "S"', 'postgres'))).to.deep.equal(['s.a -> t.a'])
    expect(pairs(lineage('INSERT INTO "Events" SELECT events FROM src', 'postgres'))).to.deep.equal([
      'src.events -> Events.events',
    ])
  })

  it('keeps each name as written beside the resolved one', () => {
    const st = single('INSERT INTO Mart."Daily" SELECT a FROM orders', 'snowflake', {defaultSchema: 'sales'})
    expect(st.targets).to.deep.equal(['MART.Daily'])
    expect(st.sources).to.deep.equal(['SALES.ORDERS'])
    expect(st.written).to.deep.equal({'MART.Daily': 'Mart."Daily"', 'SALES.ORDERS': 'orders'})
    expect(single('INSERT INTO t SELECT a FROM s', 'postgres')).not.to.have.property('written')
  })

  it('folds the defaults and USE as unquoted names, and keeps a quoted USE', () => {
    const f = lineage('INSERT INTO t SELECT a FROM s;\nUSE SCHEMA "Raw";\nINSERT INTO u SELECT a FROM v', 'snowflake', {
      defaultDatabase: 'wh',
      defaultSchema: 'core',
    })
    expect(f.statements.map((st) => st.targets)).to.deep.equal([['WH.CORE.T'], [], ['WH.Raw.U']])
  })
})
