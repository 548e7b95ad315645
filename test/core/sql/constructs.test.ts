import {expect} from 'chai'

import {lineage, single} from './helpers.js'

interface Case {
  name: string
  sql: string
  dialect?: string
  sources: string[]
  targets: string[]
}

/** File-level lineage of each construct the extractor must understand. */
const CASES: Case[] = [
  {
    name: 'SELECT with joins',
    sql: 'SELECT a.x FROM s1.a a JOIN b ON a.id = b.id LEFT JOIN c USING (id)',
    sources: ['b', 'c', 's1.a'],
    targets: [],
  },
  {
    name: 'subqueries in FROM, WHERE and the select list',
    sql: 'SELECT (SELECT max(y) FROM d) m FROM (SELECT * FROM a) t WHERE t.x IN (SELECT x FROM b) AND EXISTS (SELECT 1 FROM c)',
    sources: ['a', 'b', 'c', 'd'],
    targets: [],
  },
  {
    name: 'CTEs over several levels are not tables',
    sql: 'WITH a AS (SELECT * FROM raw1), b AS (SELECT * FROM a JOIN raw2 ON 1 = 1) SELECT * FROM b',
    sources: ['raw1', 'raw2'],
    targets: [],
  },
  {
    name: 'a recursive CTE',
    sql: 'WITH RECURSIVE r AS (SELECT id FROM nodes UNION ALL SELECT n.id FROM nodes n JOIN r ON n.parent = r.id) SELECT * FROM r',
    sources: ['nodes'],
    targets: [],
  },
  {
    name: 'a CTE shadowing a qualified table of the same name',
    sql: 'WITH t AS (SELECT * FROM s.a) SELECT * FROM t JOIN db.t ON 1 = 1',
    sources: ['db.t', 's.a'],
    targets: [],
  },
  {
    name: 'INSERT ... SELECT',
    sql: 'INSERT INTO mart.t (a, b) SELECT a, b FROM raw.s',
    sources: ['raw.s'],
    targets: ['mart.t'],
  },
  {
    name: 'WITH ... INSERT',
    sql: 'WITH c AS (SELECT * FROM s) INSERT INTO t SELECT * FROM c',
    sources: ['s'],
    targets: ['t'],
  },
  {
    name: 'INSERT ... VALUES with a subquery',
    sql: 'INSERT INTO t VALUES (1, (SELECT max(id) FROM s))',
    sources: ['s'],
    targets: ['t'],
  },
  {
    name: 'INSERT OVERWRITE TABLE with a partition',
    sql: "INSERT OVERWRITE TABLE db.t PARTITION (dt = '2024-01-01') SELECT a FROM db.s",
    dialect: 'hive',
    sources: ['db.s'],
    targets: ['db.t'],
  },
  {
    name: 'INSERT OVERWRITE reading its own target',
    sql: 'INSERT OVERWRITE TABLE t SELECT * FROM t JOIN s ON t.id = s.id',
    dialect: 'sparksql',
    sources: ['s', 't'],
    targets: ['t'],
  },
  {name: 'CREATE TABLE AS', sql: 'CREATE TABLE t AS SELECT * FROM s', sources: ['s'], targets: ['t']},
  {
    name: 'CREATE TABLE AS with options (Redshift)',
    sql: 'CREATE TABLE t DISTKEY(a) SORTKEY(b) AS SELECT a, b FROM s',
    dialect: 'redshift',
    sources: ['s'],
    targets: ['t'],
  },
  {name: 'CREATE TABLE with columns', sql: 'CREATE TABLE t (a INT, b STRING)', sources: [], targets: ['t']},
  {name: 'CREATE TABLE LIKE', sql: 'CREATE TABLE t LIKE s', sources: ['s'], targets: ['t']},
  {
    name: 'CREATE VIEW (the view is a target)',
    sql: 'CREATE OR REPLACE VIEW v (x) AS SELECT a FROM s',
    sources: ['s'],
    targets: ['v'],
  },
  {
    name: 'SELECT INTO (Postgres)',
    sql: 'SELECT * INTO films_recent FROM films',
    dialect: 'postgres',
    sources: ['films'],
    targets: ['films_recent'],
  },
  {
    name: 'SELECT INTO a T-SQL temp table, then read',
    sql: 'SELECT * INTO #tmp FROM dbo.src; INSERT INTO dbo.tgt SELECT * FROM #tmp; DROP TABLE #tmp',
    dialect: 'tsql',
    sources: ['dbo.src'],
    targets: ['dbo.tgt'],
  },
  {name: 'UPDATE', sql: "UPDATE t SET a = 1 WHERE b = 'x'", sources: [], targets: ['t']},
  {
    name: 'UPDATE ... FROM',
    sql: 'UPDATE t SET a = s.a FROM s WHERE t.id = s.id',
    dialect: 'postgres',
    sources: ['s'],
    targets: ['t'],
  },
  {
    name: 'UPDATE ... FROM an alias (T-SQL)',
    sql: 'UPDATE a SET a.x = s.x FROM dbo.t a JOIN dbo.s s ON a.id = s.id',
    dialect: 'tsql',
    sources: ['dbo.s'],
    targets: ['dbo.t'],
  },
  {
    name: 'UPDATE with a join (MySQL)',
    sql: 'UPDATE t a JOIN s b ON a.id = b.id SET a.x = b.x',
    dialect: 'mysql',
    sources: ['s'],
    targets: ['t'],
  },
  {
    name: 'DELETE ... USING',
    sql: 'DELETE FROM t USING s WHERE t.id = s.id',
    dialect: 'postgres',
    sources: ['s'],
    targets: ['t'],
  },
  {name: 'DELETE alone moves no data', sql: 'DELETE FROM t WHERE x < 5', sources: [], targets: []},
  {
    name: 'MERGE: target and the USING table',
    sql: 'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.v = s.v',
    sources: ['s'],
    targets: ['t'],
  },
  {
    name: 'MERGE: every source of a USING subquery',
    sql: 'MERGE INTO tgt t USING (SELECT a.id, b.v FROM a JOIN b ON a.id = b.id WHERE a.x IN (SELECT x FROM c)) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)',
    sources: ['a', 'b', 'c'],
    targets: ['tgt'],
  },
  {
    name: 'MERGE without INTO (BigQuery)',
    sql: 'MERGE t USING s ON t.k = s.k WHEN NOT MATCHED THEN INSERT ROW',
    dialect: 'bigquery',
    sources: ['s'],
    targets: ['t'],
  },
  {
    name: 'DROP removes a table nothing links to',
    sql: 'CREATE TABLE t AS SELECT 1 AS x; DROP TABLE IF EXISTS t',
    sources: [],
    targets: [],
  },
  {
    name: 'a temporary table collapses',
    sql: 'CREATE TABLE tmp AS SELECT * FROM a; INSERT INTO b SELECT * FROM tmp; DROP TABLE tmp',
    sources: ['a'],
    targets: ['b'],
  },
  {
    name: 'ALTER TABLE RENAME moves links',
    sql: 'INSERT INTO t1 SELECT * FROM t2; ALTER TABLE t1 RENAME TO t3',
    sources: ['t2'],
    targets: ['t3'],
  },
  {
    name: 'RENAME TABLE of unlinked tables',
    sql: 'RENAME TABLE a TO b, c TO d',
    dialect: 'mysql',
    sources: [],
    targets: [],
  },
  {
    name: 'Snowflake SWAP WITH',
    sql: 'ALTER TABLE t1 SWAP WITH t2',
    dialect: 'snowflake',
    sources: ['T2'],
    targets: ['T1'],
  },
  {
    name: 'Hive EXCHANGE PARTITION',
    sql: "ALTER TABLE t1 EXCHANGE PARTITION (pt = '1') WITH TABLE t2",
    dialect: 'hive',
    sources: ['t2'],
    targets: ['t1'],
  },
  {
    name: 'COPY INTO from a path (the path is no table)',
    sql: "COPY INTO t FROM 's3://bucket/p/'",
    dialect: 'snowflake',
    sources: [],
    targets: ['T'],
  },
  {
    name: 'COPY from a path (Redshift)',
    sql: "COPY t FROM 's3://bucket/p' IAM_ROLE 'arn:x'",
    dialect: 'redshift',
    sources: [],
    targets: ['t'],
  },
  {
    name: 'UNLOAD to a path',
    sql: "UNLOAD ('select * from venue') TO 's3://b/unload/' IAM_ROLE 'arn:x'",
    dialect: 'redshift',
    sources: ['venue'],
    targets: [],
  },
  {
    name: 'INSERT OVERWRITE DIRECTORY',
    sql: "INSERT OVERWRITE DIRECTORY 'hdfs://p' SELECT * FROM t",
    dialect: 'hive',
    sources: ['t'],
    targets: [],
  },
  {
    name: 'Spark query on files',
    sql: 'SELECT * FROM parquet.`/data/events/`',
    dialect: 'sparksql',
    sources: [],
    targets: [],
  },
  {
    name: 'a procedure is one statement over its body',
    sql: 'CREATE PROCEDURE p() AS BEGIN INSERT INTO t2 SELECT * FROM t1; INSERT INTO t3 SELECT * FROM t2; END',
    dialect: 'tsql',
    sources: ['t1', 't2'],
    targets: ['t2', 't3'],
  },
  {
    name: 'a $$ procedure body in SQL',
    sql: "CREATE PROCEDURE p() RETURNS STRING LANGUAGE SQL AS $$ BEGIN INSERT INTO t SELECT * FROM s; RETURN 'x'; END $$",
    dialect: 'snowflake',
    sources: ['S'],
    targets: ['T'],
  },
  {
    name: 'T-SQL statements without semicolons',
    sql: 'insert into tab1 select * from foo\ninsert into tab2 select * from bar',
    dialect: 'tsql',
    sources: ['bar', 'foo'],
    targets: ['tab1', 'tab2'],
  },
  {
    name: 'T-SQL IF blocks',
    sql: 'IF @x > 0\nBEGIN\n  INSERT INTO a SELECT * FROM b\nEND\nELSE\n  UPDATE c SET y = (SELECT max(y) FROM d)',
    dialect: 'tsql',
    sources: ['b', 'd'],
    targets: ['a', 'c'],
  },
  {
    name: 'Hive LATERAL VIEW',
    sql: 'INSERT OVERWRITE TABLE foo SELECT sc.id, q.c FROM bar sc LATERAL VIEW explode(sc.arr) q AS c',
    dialect: 'hive',
    sources: ['bar'],
    targets: ['foo'],
  },
  {
    name: 'Vertica swap_partitions_between_tables',
    sql: "SELECT swap_partitions_between_tables('stg', 'a', 'b', 'tgt')",
    dialect: 'vertica',
    sources: ['stg'],
    targets: ['tgt'],
  },
]

/** Statements without lineage parse (status ok) and give none. */
const NO_LINEAGE: [string, string][] = [
  ['ansi', 'SET x = 1'],
  ['sparksql', 'SET spark.sql.variable.substitute=false'],
  ['sparksql', 'SHOW FUNCTIONS trim'],
  ['ansi', 'USE db1'],
  ['sparksql', 'REFRESH TABLE t'],
  ['sparksql', 'CACHE TABLE t SELECT * FROM s'],
  ['sparksql', 'UNCACHE TABLE IF EXISTS t'],
  ['sparksql', "CREATE OR REPLACE TEMPORARY FUNCTION f AS 'Udf' USING JAR '/tmp/udf.jar'"],
  ['sparksql', 'DROP FUNCTION f'],
  ['sparksql', 'DESC FUNCTION abs'],
  ['sparksql', 'ADD JAR /tmp/x.jar'],
  ['postgres', 'ANALYZE t (a, b)'],
  ['ansi', 'TRUNCATE TABLE t'],
  ['ansi', 'GRANT SELECT ON t TO r'],
  ['ansi', 'COMMIT'],
  ['tsql', 'DECLARE @age int = 10'],
  ['ansi', 'DROP VIEW IF EXISTS v'],
]

describe('sql constructs (table lineage)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const f = lineage(c.sql, c.dialect ?? 'ansi')
      expect(f.status, JSON.stringify(f.errors)).to.equal('ok')
      expect({sources: f.sources, targets: f.targets}).to.deep.equal({sources: c.sources, targets: c.targets})
    })
  }

  for (const [dialect, sql] of NO_LINEAGE) {
    it(`no lineage: ${sql} (${dialect})`, () => {
      const f = lineage(sql, dialect)
      expect(f.status).to.equal('ok')
      expect(f.statements).to.have.length(1)
      expect(f.statements[0]).to.include({status: 'ok'})
      expect([...f.sources, ...f.targets]).to.deep.equal([])
    })
  }

  it('keeps paths apart from tables', () => {
    expect(single("COPY INTO t FROM 's3://b/p/'", 'snowflake')).to.deep.include({
      sourcePaths: ['s3://b/p/'],
      targets: ['T'],
    })
    expect(single("UNLOAD ('select * from v') TO 's3://b/u/'", 'redshift')).to.deep.include({
      targetPaths: ['s3://b/u/'],
      sources: ['v'],
    })
    expect(single('SELECT * FROM csv.`data/x/`', 'sparksql')).to.deep.include({sourcePaths: ['data/x/'], sources: []})
  })

  it('names the grammar that read each statement, and marks the token scan', () => {
    const f = lineage(
      'INSERT INTO t SELECT * FROM s; SET x = 1; SELECT * FROM a WHERE b = (; MERGE INTO m USING s ON 1 = 1 WHEN MATCHED THEN DELETE',
    )
    expect(f.statements.map((s) => [s.status, s.grammar])).to.deep.equal([
      ['ok', 'mysql'],
      ['ok', 'keywords'],
      ['fallback', 'fallback'],
      ['ok', 'mysql'],
    ])
    expect(f.statements[2]?.warnings?.[0]).to.match(/^no grammar accepted the statement \(1:\d+: syntax error/)
  })

  it("tries the dialect's other grammars when the first rejects a statement", () => {
    expect(single('SELECT col1 FROM db1.schema1.tbl1')).to.include({grammar: 'postgresql', status: 'ok'})
  })
})
