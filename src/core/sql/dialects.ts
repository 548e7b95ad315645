/**
 * The dialects `lineage` accepts (sqlfluff's names, since that is what SQL people already use) and how
 * each maps onto node-sql-parser's grammars and onto the tokenizer's quoting rules. The first grammar is
 * tried first; the others only when it rejects a statement. `resolveDialect` throws a usage error
 * (exit 64) naming the accepted dialects for an unknown name.
 */
import {LineageError} from '../errors.js'
import type {LexOptions} from './lexer.js'

/** node-sql-parser 5.4's per-dialect builds (`node-sql-parser/build/<grammar>.js`). */
export type Grammar =
  | 'athena'
  | 'bigquery'
  | 'db2'
  | 'flinksql'
  | 'hive'
  | 'mariadb'
  | 'mysql'
  | 'postgresql'
  | 'redshift'
  | 'snowflake'
  | 'sqlite'
  | 'transactsql'
  | 'trino'

export interface DialectInfo {
  name: string
  grammars: Grammar[]
  lex: LexOptions
  /** Statement separators and procedural syntax the splitter must know. */
  family: 'tsql' | 'oracle' | 'mysql' | 'postgres' | 'hive' | 'other'
}

const MYSQLISH: LexOptions = {
  backslashEscapes: true,
  hashComments: true,
  bracketIdentifiers: false,
  dollarQuotes: false,
  nestedComments: false,
}
const PG: LexOptions = {
  backslashEscapes: false,
  hashComments: false,
  bracketIdentifiers: false,
  dollarQuotes: true,
  nestedComments: true,
}
const HIVE: LexOptions = {...MYSQLISH, hashComments: false}
const PLAIN: LexOptions = {...PG, nestedComments: false, dollarQuotes: false}
const TSQL: LexOptions = {...PLAIN, bracketIdentifiers: true}

type Row = [string, Grammar[], LexOptions, DialectInfo['family']]

const ROWS: Row[] = [
  ['ansi', ['mysql', 'postgresql', 'bigquery', 'hive'], PLAIN, 'other'],
  ['athena', ['athena', 'trino', 'mysql', 'postgresql'], PLAIN, 'other'],
  ['bigquery', ['bigquery', 'mysql', 'postgresql'], {...MYSQLISH, dollarQuotes: false}, 'other'],
  ['clickhouse', ['mysql', 'postgresql'], MYSQLISH, 'mysql'],
  ['databricks', ['hive', 'mysql', 'bigquery', 'postgresql'], HIVE, 'hive'],
  ['db2', ['db2', 'mysql', 'postgresql'], PLAIN, 'other'],
  ['doris', ['mysql', 'mariadb', 'postgresql'], MYSQLISH, 'mysql'],
  ['duckdb', ['postgresql', 'mysql'], PG, 'postgres'],
  ['exasol', ['mysql', 'postgresql'], PLAIN, 'other'],
  ['flink', ['flinksql', 'mysql', 'hive'], HIVE, 'other'],
  ['greenplum', ['postgresql', 'mysql'], PG, 'postgres'],
  ['hive', ['hive', 'mysql', 'postgresql'], HIVE, 'hive'],
  ['impala', ['hive', 'mysql', 'postgresql'], HIVE, 'hive'],
  ['mariadb', ['mariadb', 'mysql', 'postgresql'], MYSQLISH, 'mysql'],
  ['materialize', ['postgresql', 'mysql'], PG, 'postgres'],
  ['mysql', ['mysql', 'mariadb', 'postgresql'], MYSQLISH, 'mysql'],
  ['oracle', ['mysql', 'postgresql'], PLAIN, 'oracle'],
  ['postgres', ['postgresql', 'mysql'], PG, 'postgres'],
  ['redshift', ['redshift', 'postgresql', 'mysql'], PG, 'postgres'],
  ['snowflake', ['snowflake', 'mysql', 'postgresql'], {...PLAIN, dollarQuotes: true}, 'other'],
  ['soql', ['mysql'], PLAIN, 'other'],
  ['sparksql', ['hive', 'mysql', 'bigquery', 'postgresql'], HIVE, 'hive'],
  ['sqlite', ['sqlite', 'mysql', 'postgresql'], PLAIN, 'other'],
  ['starrocks', ['mysql', 'mariadb', 'postgresql'], MYSQLISH, 'mysql'],
  ['teradata', ['mysql', 'postgresql'], PLAIN, 'other'],
  ['trino', ['trino', 'athena', 'mysql', 'postgresql'], PLAIN, 'other'],
  ['tsql', ['transactsql', 'mysql', 'postgresql'], TSQL, 'tsql'],
  ['vertica', ['mysql', 'postgresql'], PLAIN, 'other'],
]

const DIALECTS = new Map<string, DialectInfo>(
  ROWS.map(([name, grammars, lex, family]) => [name, {name, grammars, lex, family}]),
)

/** Other spellings people use for the same dialects. */
const ALIASES = new Map<string, string>([
  ['postgresql', 'postgres'],
  ['pg', 'postgres'],
  ['transactsql', 'tsql'],
  ['mssql', 'tsql'],
  ['sqlserver', 'tsql'],
  ['spark', 'sparksql'],
  ['plsql', 'oracle'],
])

/** Every dialect name `--dialect` accepts (sqlfluff's names). */
export const DIALECT_NAMES: readonly string[] = ROWS.map((r) => r[0])

/** The dialect's settings; throws a usage error (exit 64) listing the accepted names. */
export function dialectInfo(name: string): DialectInfo {
  const key = name.trim().toLowerCase()
  const info = DIALECTS.get(ALIASES.get(key) ?? key)
  if (!info) {
    throw new LineageError(
      'E_USAGE',
      `unknown SQL dialect "${name}"; accepted: ${DIALECT_NAMES.join(', ')}`,
      "Dialects use sqlfluff's names; set one with --dialect or LINEAGE_DIALECT.",
    )
  }
  return info
}

/** Public form of `dialectInfo`: the canonical name and the grammars tried, in order. */
export function resolveDialect(name: string): {name: string; grammars: string[]} {
  const info = dialectInfo(name)
  return {name: info.name, grammars: [...info.grammars]}
}
