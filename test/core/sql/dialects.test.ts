import {expect} from 'chai'

import {isLineageError} from '../../../src/core/errors.js'
import {DIALECT_NAMES, resolveDialect} from '../../../src/core/sql/index.js'
import {lineage} from './helpers.js'

/** sqlfluff's dialect names, which `--dialect` must accept. */
const SQLFLUFF = [
  'ansi',
  'athena',
  'bigquery',
  'clickhouse',
  'databricks',
  'db2',
  'doris',
  'duckdb',
  'exasol',
  'flink',
  'greenplum',
  'hive',
  'impala',
  'mariadb',
  'materialize',
  'mysql',
  'oracle',
  'postgres',
  'redshift',
  'snowflake',
  'soql',
  'sparksql',
  'sqlite',
  'starrocks',
  'teradata',
  'trino',
  'tsql',
  'vertica',
]

const SCRIPT = `-- an ETL step
CREATE TABLE stage_orders AS
SELECT o.id, o.amount, c.region
FROM sales.orders o
JOIN sales.customers c ON o.customer_id = c.id
WHERE o.status = 'done;ok';
INSERT INTO mart.revenue (region, total)
SELECT region, sum(amount) AS total FROM stage_orders GROUP BY region;
DROP TABLE stage_orders`

describe('sql dialects', () => {
  it('accepts every sqlfluff dialect name', () => {
    expect([...DIALECT_NAMES].sort()).to.deep.equal([...SQLFLUFF].sort())
  })

  for (const name of DIALECT_NAMES) {
    it(`${name}: resolves to grammars and extracts an ETL script`, () => {
      const d = resolveDialect(name)
      expect(d.name).to.equal(name)
      expect(d.grammars.length).to.be.greaterThan(0)
      const f = lineage(SCRIPT, name)
      expect(f.status, JSON.stringify(f.errors)).to.equal('ok')
      // Names as the dialect folds unquoted names: Snowflake, Oracle, Db2 and Exasol in upper case.
      const up = ['snowflake', 'oracle', 'db2', 'exasol'].includes(name)
      const as = (names: string[]): string[] => names.map((n) => (up ? n.toUpperCase() : n))
      expect(f.sources).to.deep.equal(as(['sales.customers', 'sales.orders']))
      expect(f.targets).to.deep.equal(as(['mart.revenue']))
      expect(f.statements.map((s) => s.status)).to.deep.equal(['ok', 'ok', 'ok'])
    })
  }

  it('accepts common other spellings and any case', () => {
    expect(resolveDialect('PostgreSQL').name).to.equal('postgres')
    expect(resolveDialect('mssql').name).to.equal('tsql')
    expect(resolveDialect(' Spark ').name).to.equal('sparksql')
  })

  it('rejects an unknown dialect with a usage error listing the accepted names', () => {
    try {
      resolveDialect('cobol')
      expect.fail('expected a usage error')
    } catch (error) {
      if (!isLineageError(error)) throw error
      expect(error).to.include({code: 'E_USAGE', exit: 64})
      expect(error.message).to.contain('unknown SQL dialect "cobol"').and.contain('ansi, athena, bigquery')
    }
  })

  it('reads dialect-specific quoting, keeping the case of quoted names where the dialect does', () => {
    const cases: [string, string, string][] = [
      ['mysql', 'SELECT * FROM `schema1`.`tab1`', 'schema1.tab1'],
      ['tsql', 'SELECT * FROM [schema1].[tab1]', 'schema1.tab1'],
      ['bigquery', 'SELECT * FROM `proj.ds.tab1`', 'proj.ds.tab1'],
      ['postgres', 'SELECT * FROM "Schema1"."Tab1"', 'Schema1.Tab1'],
      ['redshift', 'SELECT * FROM "Schema1"."Tab1"', 'schema1.tab1'],
    ]
    for (const [dialect, sql, table] of cases) expect(lineage(sql, dialect).sources, dialect).to.deep.equal([table])
  })
})
