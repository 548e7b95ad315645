import {expect} from 'chai'

import {lineage, pairs, single} from './helpers.js'

interface Case {
  name: string
  sql: string
  want: string[]
  schema?: Record<string, string[]>
  dialect?: string
}

const CASES: Case[] = [
  {name: 'a column', sql: 'INSERT INTO t SELECT a FROM s', want: ['s.a -> t.a']},
  {name: 'an alias', sql: 'INSERT INTO t SELECT s.a AS b FROM s', want: ['s.a -> t.b']},
  {name: 'a table alias, any case', sql: 'INSERT INTO t SELECT X.a FROM s AS x', want: ['s.a -> t.a']},
  {name: 'an expression', sql: 'INSERT INTO t SELECT a + b * 2 AS c FROM s', want: ['s.a -> t.c', 's.b -> t.c']},
  {
    name: 'an un-aliased expression is named by its text',
    sql: 'INSERT INTO t SELECT max(a), a + b FROM s',
    want: ['s.a -> t.a + b', 's.a -> t.max(a)', 's.b -> t.a + b'],
  },
  {
    name: 'CASE, CAST and functions',
    sql: 'INSERT INTO t SELECT CASE WHEN a > 0 THEN cast(b AS int) ELSE coalesce(c, 0) END AS x FROM s',
    want: ['s.a -> t.x', 's.b -> t.x', 's.c -> t.x'],
  },
  {
    name: 'window functions read their partition and order columns',
    sql: 'INSERT INTO t SELECT row_number() OVER (PARTITION BY a ORDER BY b) AS rn FROM s',
    want: ['s.a -> t.rn', 's.b -> t.rn'],
  },
  {
    name: 'constants give no lineage',
    sql: "INSERT INTO t SELECT 1 AS one, 'x' AS two, current_timestamp AS ts, a FROM s",
    want: ['s.a -> t.a'],
  },
  {name: 'count(*) reads all columns', sql: 'INSERT INTO t SELECT count(*) AS n FROM s', want: ['s.* -> t.n']},
  {
    name: 'the explicit column list of INSERT',
    sql: 'INSERT INTO t (x, y) SELECT a, b FROM s',
    want: ['s.a -> t.x', 's.b -> t.y'],
  },
  {name: 'through a CTE', sql: 'WITH c AS (SELECT a AS k FROM s) INSERT INTO t SELECT k FROM c', want: ['s.a -> t.k']},
  {
    name: 'through two CTE levels',
    sql: 'WITH c1 AS (SELECT a, b FROM s), c2 AS (SELECT a, max(b) AS m FROM c1 GROUP BY a) INSERT INTO t SELECT c1.a, c2.m FROM c1 JOIN c2 ON c1.a = c2.a',
    want: ['s.a -> t.a', 's.b -> t.m'],
  },
  {
    name: 'through a derived table',
    sql: 'INSERT INTO t SELECT d.x FROM (SELECT a AS x FROM s) d',
    want: ['s.a -> t.x'],
  },
  {
    name: 'a scalar subquery',
    sql: 'INSERT INTO t SELECT (SELECT max(v) FROM u) AS m, a FROM s',
    want: ['s.a -> t.a', 'u.v -> t.m'],
  },
  {
    name: 'UNION by position',
    sql: 'INSERT INTO t SELECT a FROM s1 UNION ALL SELECT b FROM s2',
    want: ['s1.a -> t.a', 's2.b -> t.a'],
  },
  {name: 'CREATE TABLE AS', sql: 'CREATE TABLE t AS SELECT a, b AS c FROM s', want: ['s.a -> t.a', 's.b -> t.c']},
  {
    name: 'CREATE VIEW with a column list',
    sql: 'CREATE VIEW v (x, y) AS SELECT a, b FROM s',
    want: ['s.a -> v.x', 's.b -> v.y'],
  },
  {name: 'SELECT * without a schema', sql: 'INSERT INTO t SELECT * FROM s', want: ['s.* -> t.*']},
  {
    name: 'SELECT * expanded from the schema catalogue',
    sql: 'INSERT INTO t SELECT * FROM s',
    schema: {s: ['a', 'b']},
    want: ['s.a -> t.a', 's.b -> t.b'],
  },
  {
    name: 'SELECT t.* over a join, from the schema',
    sql: 'INSERT INTO t SELECT x.*, y.b FROM s x JOIN u y ON x.id = y.id',
    schema: {s: ['id', 'a'], u: ['id', 'b']},
    want: ['s.a -> t.a', 's.id -> t.id', 'u.b -> t.b'],
  },
  {
    name: 'unqualified columns over a join: resolved by the schema',
    sql: 'INSERT INTO t SELECT a, b FROM s JOIN u ON s.id = u.id',
    schema: {s: ['id', 'a'], u: ['id', 'b']},
    want: ['s.a -> t.a', 'u.b -> t.b'],
  },
  {
    name: 'unqualified columns over a join: unresolved without it',
    sql: 'INSERT INTO t SELECT a FROM s JOIN u ON s.id = u.id',
    want: ['?.a -> t.a'],
  },
  {
    name: 'columns of a table created earlier in the file',
    sql: 'CREATE TABLE s (a INT, b INT); INSERT INTO t SELECT * FROM s',
    want: ['s.a -> t.a', 's.b -> t.b'],
  },
  {
    name: 'INSERT without a column list maps onto known target columns',
    sql: 'INSERT INTO t SELECT a + 1, b FROM s',
    schema: {t: ['x', 'y']},
    want: ['s.a -> t.x', 's.b -> t.y'],
  },
  {
    name: 'a lateral alias reference, when the schema rules out a column',
    sql: 'INSERT INTO t SELECT a AS n, n || b AS m FROM s',
    schema: {s: ['a', 'b']},
    want: ['s.a -> t.m', 's.a -> t.n', 's.b -> t.m'],
  },
  {name: 'UPDATE SET', sql: 'UPDATE t SET x = s.a FROM s WHERE t.id = s.id', dialect: 'postgres', want: ['s.a -> t.x']},
  {
    name: 'MERGE UPDATE and INSERT clauses',
    sql: 'MERGE INTO t USING (SELECT k, max(v) AS m FROM s GROUP BY k) b ON t.k = b.k WHEN MATCHED THEN UPDATE SET t.v = b.m WHEN NOT MATCHED THEN INSERT (k, v) VALUES (b.k, b.m)',
    want: ['s.k -> t.k', 's.v -> t.v'],
  },
  {
    name: 'T-SQL alias = expression',
    sql: 'INSERT INTO t SELECT x = a, y = 1 FROM s',
    dialect: 'tsql',
    want: ['s.a -> t.x'],
  },
  {
    name: 'through a temporary table in the same file',
    sql: 'CREATE TABLE tmp AS SELECT a FROM s; INSERT INTO t SELECT a AS b FROM tmp',
    want: ['s.a -> t.b'],
  },
]

describe('sql column lineage', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const f = lineage(c.sql, c.dialect ?? 'ansi', c.schema ? {schema: c.schema} : {})
      expect(f.status, JSON.stringify(f.errors)).to.equal('ok')
      expect(pairs(f)).to.deep.equal([...c.want].sort())
    })
  }

  it('marks a source it cannot tie to a table as unresolved', () => {
    const st = single('INSERT INTO t SELECT a FROM s JOIN u ON s.id = u.id')
    expect(st.columns).to.deep.equal([{target: 't.a', sources: ['?.a'], unresolved: true}])
  })
})

describe('sql column lineage: static partitions', () => {
  it('leaves static partition columns out of the positional mapping', () => {
    const schema = {'db.daily': ['k', 'v', 'dt'], 'db.src': ['a', 'b']}
    const f = lineage("INSERT OVERWRITE TABLE db.daily PARTITION (dt = '2024-01-01') SELECT a, b FROM db.src", 'hive', {
      schema,
    })
    expect(pairs(f)).to.deep.equal(['db.src.a -> db.daily.k', 'db.src.b -> db.daily.v'])
  })
})
