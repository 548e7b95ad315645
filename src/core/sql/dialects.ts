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
  /** How the warehouse resolves identifiers (docs/identifier-case.md). */
  names: CaseRule
}

/** What a name part becomes: folded to lower or upper case, or kept as written. */
export type Fold = 'lower' | 'upper' | 'keep'

/** The folds of unquoted and quoted table name parts, and of unquoted and quoted column names. */
export interface CaseRule {
  table: {unquoted: Fold; quoted: Fold}
  column: {unquoted: Fold; quoted: Fold}
  /** `"x"` is an identifier (else a string, as in MySQL, BigQuery and Hive). */
  doubleQuotedIdents: boolean
}

/** A name part as written: its text without quotes, and whether it was quoted. */
export interface NamePart {
  text: string
  quoted: boolean
}

export function fold(s: string, how: Fold): string {
  return how === 'lower' ? s.toLowerCase() : how === 'upper' ? s.toUpperCase() : s
}

/** One name part as the dialect resolves it, for a table (or database, schema) or for a column. */
export function resolvePart(p: NamePart, rule: CaseRule, kind: 'table' | 'column'): string {
  const r = rule[kind]
  return fold(p.text, p.quoted ? r.quoted : r.unquoted)
}

const rule = (table: [Fold, Fold], column: [Fold, Fold], doubleQuotedIdents = true): CaseRule => ({
  table: {unquoted: table[0], quoted: table[1]},
  column: {unquoted: column[0], quoted: column[1]},
  doubleQuotedIdents,
})

/**
 * Identifier case per dialect, as each documents it (sources in docs/identifier-case.md):
 * - FOLD_LOWER: unquoted folded to lower case, quoted kept (Postgres and kin; also the generic `ansi`, as
 *   sqlglot's default dialect does, so names written without quotes keep today's lower-case keys);
 * - FOLD_UPPER: unquoted folded to upper case, quoted kept (Snowflake, Oracle, Db2, Exasol);
 * - INSENSITIVE: case never matters, quoted or not, shown in lower case (SQL Server's default collation,
 *   Hive and Spark's metastore, Redshift without enable_case_sensitive_identifier, DuckDB, Trino, SQLite, ...);
 * - MYSQL: table names are file names, case-sensitive on Linux (lower_case_table_names=0), columns are not;
 * - BIGQUERY: dataset and table names are case-sensitive, columns are not, `"x"` is a string;
 * - SENSITIVE: every name as written (ClickHouse, Flink).
 */
export const CASE_RULES = {
  FOLD_LOWER: rule(['lower', 'keep'], ['lower', 'keep']),
  FOLD_UPPER: rule(['upper', 'keep'], ['upper', 'keep']),
  INSENSITIVE: rule(['lower', 'lower'], ['lower', 'lower']),
  INSENSITIVE_HIVE: rule(['lower', 'lower'], ['lower', 'lower'], false),
  MYSQL: rule(['keep', 'keep'], ['lower', 'lower'], false),
  BIGQUERY: rule(['keep', 'keep'], ['lower', 'lower'], false),
  SENSITIVE: rule(['keep', 'keep'], ['keep', 'keep']),
} as const

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

type Row = [string, Grammar[], LexOptions, DialectInfo['family'], CaseRule]
const {FOLD_LOWER, FOLD_UPPER, INSENSITIVE, INSENSITIVE_HIVE, MYSQL, BIGQUERY, SENSITIVE} = CASE_RULES

const ROWS: Row[] = [
  ['ansi', ['mysql', 'postgresql', 'bigquery', 'hive'], PLAIN, 'other', FOLD_LOWER],
  ['athena', ['athena', 'trino', 'mysql', 'postgresql'], PLAIN, 'other', INSENSITIVE],
  ['bigquery', ['bigquery', 'mysql', 'postgresql'], {...MYSQLISH, dollarQuotes: false}, 'other', BIGQUERY],
  ['clickhouse', ['mysql', 'postgresql'], MYSQLISH, 'mysql', SENSITIVE],
  ['databricks', ['hive', 'mysql', 'bigquery', 'postgresql'], HIVE, 'hive', INSENSITIVE_HIVE],
  ['db2', ['db2', 'mysql', 'postgresql'], PLAIN, 'other', FOLD_UPPER],
  ['doris', ['mysql', 'mariadb', 'postgresql'], MYSQLISH, 'mysql', MYSQL],
  ['duckdb', ['postgresql', 'mysql'], PG, 'postgres', INSENSITIVE],
  ['exasol', ['mysql', 'postgresql'], PLAIN, 'other', FOLD_UPPER],
  ['flink', ['flinksql', 'mysql', 'hive'], HIVE, 'other', SENSITIVE],
  ['greenplum', ['postgresql', 'mysql'], PG, 'postgres', FOLD_LOWER],
  ['hive', ['hive', 'mysql', 'postgresql'], HIVE, 'hive', INSENSITIVE_HIVE],
  ['impala', ['hive', 'mysql', 'postgresql'], HIVE, 'hive', INSENSITIVE_HIVE],
  ['mariadb', ['mariadb', 'mysql', 'postgresql'], MYSQLISH, 'mysql', MYSQL],
  ['materialize', ['postgresql', 'mysql'], PG, 'postgres', FOLD_LOWER],
  ['mysql', ['mysql', 'mariadb', 'postgresql'], MYSQLISH, 'mysql', MYSQL],
  ['oracle', ['mysql', 'postgresql'], PLAIN, 'oracle', FOLD_UPPER],
  ['postgres', ['postgresql', 'mysql'], PG, 'postgres', FOLD_LOWER],
  ['redshift', ['redshift', 'postgresql', 'mysql'], PG, 'postgres', INSENSITIVE],
  ['snowflake', ['snowflake', 'mysql', 'postgresql'], {...PLAIN, dollarQuotes: true}, 'other', FOLD_UPPER],
  ['soql', ['mysql'], PLAIN, 'other', INSENSITIVE],
  ['sparksql', ['hive', 'mysql', 'bigquery', 'postgresql'], HIVE, 'hive', INSENSITIVE_HIVE],
  ['sqlite', ['sqlite', 'mysql', 'postgresql'], PLAIN, 'other', INSENSITIVE],
  ['starrocks', ['mysql', 'mariadb', 'postgresql'], MYSQLISH, 'mysql', MYSQL],
  ['teradata', ['mysql', 'postgresql'], PLAIN, 'other', INSENSITIVE],
  ['trino', ['trino', 'athena', 'mysql', 'postgresql'], PLAIN, 'other', INSENSITIVE],
  ['tsql', ['transactsql', 'mysql', 'postgresql'], TSQL, 'tsql', INSENSITIVE],
  ['vertica', ['mysql', 'postgresql'], PLAIN, 'other', INSENSITIVE],
]

const DIALECTS = new Map<string, DialectInfo>(
  ROWS.map(([name, grammars, lex, family, names]) => [name, {name, grammars, lex, family, names}]),
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
