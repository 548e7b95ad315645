import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {
  ExitCode,
  LineageError,
  parseSqlFilesIsolated,
  parseVarFlags,
  readSchemaFile,
  settingSpec,
  type FileLineage,
  type SettingKey,
} from '../core/index.js'
import {formatParseReport, parseWarnings} from '../ui/parse-report.js'

export interface ParseResult {
  files: FileLineage[]
}

export default class Parse extends BaseCommand<typeof Parse> {
  static override summary = 'Show the table and column lineage ingestion would record for SQL files'
  static override description = `A dry run of the extractor: each FILE is split into statements and every statement shows \
the tables it reads and writes, its column lineage and, where it failed, file:line:col and the offending line. \
The file-level sources and targets combine the statements (temporary tables collapse, DROP and RENAME apply). \
Columns of tables created in any of the files, plus those of --schema, resolve SELECT * and unqualified columns. \
Bare table names are qualified by --default-database and --default-schema, and by USE or SET search_path in the \
file for the statements after it. \
Extraction runs in a worker thread: a statement still parsing after --statement-budget is stopped and read by \
the token scan (its error E_PARSE_BUDGET, the file degraded), a file over --timeout is cut short with E_PARSE_TIMEOUT, \
and a worker that dies (out of --worker-max-mb, a crash) fails that file with E_WORKER_CRASHED; the other files \
go on and the result is printed either way. \
Exits 0 when every file parsed completely, 1 when any file is degraded (a statement lost its column lineage), \
partial or failed (the result is still printed).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> models/orders.sql',
    '<%= config.bin %> <%= command.id %> etl/*.sql --dialect sparksql --var run_date=2024-06-30 --json',
    '<%= config.bin %> <%= command.id %> report.sql --schema catalogue.json',
    '<%= config.bin %> <%= command.id %> marts/*.sql --dialect snowflake --default-database analytics --default-schema sales',
  ]

  static override strict = false

  static override args = {
    file: Args.string({description: 'SQL file to parse (several may be given)', required: true}),
  }

  static override flags = {
    dialect: Flags.string({
      description: "SQL dialect, by sqlfluff's names: ansi, mysql, postgres, tsql, sparksql, bigquery, snowflake, ...",
      env: 'LINEAGE_DIALECT',
      default: 'ansi',
    }),
    var: Flags.string({
      description: 'template variable for ${name}, {{ name }} and :name placeholders, as name=value (repeatable)',
      multiple: true,
    }),
    schema: Flags.string({description: 'JSON file mapping table names to their columns, e.g. {"db.t": ["a", "b"]}'}),
    'default-database': Flags.string({
      description:
        'database that qualifies unqualified table names (USE in a file, a .lineage.json in its folders change it)',
      env: 'LINEAGE_DEFAULT_DATABASE',
    }),
    'default-schema': Flags.string({
      description:
        'schema that qualifies unqualified table names (USE, SET search_path, a .lineage.json in its folders change it)',
      env: 'LINEAGE_DEFAULT_SCHEMA',
    }),
    'statement-budget': seconds(
      'LINEAGE_STATEMENT_BUDGET_SECONDS',
      'seconds one statement may parse before it is stopped and read by the token scan',
    ),
    timeout: seconds(
      'LINEAGE_PARSE_TIMEOUT_SECONDS',
      'seconds one file may parse: statements after 80% of it are skipped and a file still parsing at it fails (E_PARSE_TIMEOUT)',
    ),
    'worker-max-mb': Flags.integer({
      description: 'heap limit of the parse worker, in MB: a file that needs more fails with E_WORKER_CRASHED',
      env: 'LINEAGE_WORKER_MAX_MB',
      default: Number(settingSpec('LINEAGE_WORKER_MAX_MB').default),
      min: 32,
    }),
  }

  public async run(): Promise<ParseResult> {
    const {argv} = await this.parse(Parse)
    const vars = parseVarFlags(this.flags.var)
    const schema = this.flags.schema === undefined ? undefined : readSchemaFile(this.flags.schema)
    const paths = argv.filter((a): a is string => typeof a === 'string')
    const {files} = await parseSqlFilesIsolated(paths, {
      dialect: this.flags.dialect,
      statementBudgetMs: Math.round(this.flags['statement-budget'] * 1000),
      timeoutMs: Math.round(this.flags.timeout * 1000),
      workerMaxMb: this.flags['worker-max-mb'],
      vars,
      ...(schema ? {schema} : {}),
      ...(this.flags['default-database'] ? {defaultDatabase: this.flags['default-database']} : {}),
      ...(this.flags['default-schema'] ? {defaultSchema: this.flags['default-schema']} : {}),
    })
    // Not even built under --json: the statement table of a file of thousands of statements takes seconds.
    if (!this.jsonEnabled()) {
      this.log(formatParseReport(files, {color: process.stdout.isTTY && !process.env.NO_COLOR}))
      for (const line of parseWarnings(files)) this.logToStderr(line)
    }
    if (files.some((f) => f.status !== 'ok')) this.exitStatus = ExitCode.FAILURE
    return {files}
  }
}

/** A flag of positive seconds, read from its setting's environment variable too, defaulting as the setting does. */
function seconds(env: SettingKey, description: string) {
  return Flags.custom<number>({
    description,
    env,
    default: Number(settingSpec(env).default),
    parse: (input) => {
      const n = Number(input)
      if (input.trim() === '' || !Number.isFinite(n) || n <= 0)
        throw new LineageError('E_USAGE', `${input} is not a positive number of seconds`)
      return Promise.resolve(n)
    },
  })()
}
