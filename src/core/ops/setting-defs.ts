/**
 * The declaration of every setting, once: its name (the environment variable), kind, default, baseline,
 * whether it is secret or operator-overridable, its bounds or options, its description, and the valibot
 * schema that parses it from any source (environment text, a JSON config value, a flag's value). The value
 * type of each setting is inferred from its declaration (SettingValues), so settings.ts reads them by name
 * with the compiler checking the name. Pure; throws nothing. A schema's issue message completes the sentence
 * `NAME=value ...` (settings.ts adds the name, the value and the source).
 */
import {availableParallelism} from 'node:os'

import * as v from 'valibot'

export const FEATURES = ['parse-cache', 'batching', 'neo4j-batch', 'parallel', 'metrics'] as const
export type Feature = (typeof FEATURES)[number]

/** Gradual rollback disables in this order; re-enabling goes the other way (metrics is not part of it). */
export const ROLLBACK_ORDER: readonly Feature[] = ['parallel', 'neo4j-batch', 'batching', 'parse-cache']

export type SettingKind = 'bool' | 'int' | 'number' | 'string' | 'path'
export type SettingValue = boolean | number | string

export interface SettingDef<T extends SettingValue = SettingValue> {
  kind: SettingKind
  default: T | undefined
  /** The value of the all-off baseline, for features and tuning. */
  baseline?: SettingValue
  min?: number
  max?: number
  options?: readonly string[]
  secret?: boolean
  /** Operators may override it through the state file (features and tuning). */
  overridable?: boolean
  description: string
  schema: v.GenericSchema<unknown, T>
}

const BOOL_WORDS = new Map<string, boolean>([
  ...['true', '1', 'yes', 'on'].map((w): [string, boolean] => [w, true]),
  ...['false', '0', 'no', 'off'].map((w): [string, boolean] => [w, false]),
])

const BOOL = v.pipe(
  v.unknown(),
  v.transform((raw) => (typeof raw === 'boolean' ? raw : BOOL_WORDS.get(String(raw).trim().toLowerCase()))),
  v.boolean('is not a boolean (use true or false)'),
)

function numberSchema(whole: boolean, min: number, max: number): v.GenericSchema<unknown, number> {
  return v.pipe(
    v.unknown(),
    v.transform((raw) => (typeof raw === 'number' ? raw : String(raw).trim() === '' ? NaN : Number(String(raw)))),
    v.number('is not a number'),
    v.finite('is not a number'),
    v.check((n) => !whole || Number.isInteger(n), 'is not a whole number'),
    v.minValue(min, `is below ${min}`),
    v.maxValue(max, `is above ${max}`),
  )
}

const TEXT = v.pipe(
  v.unknown(),
  v.transform((raw) => String(raw)),
)

interface Common {
  description: string
  overridable?: true
}

/** A FEATURE_* flag: on by default, off in the baseline, overridable. */
function feature(description: string): SettingDef<boolean> & {default: boolean} {
  return {kind: 'bool', default: true, baseline: false, overridable: true, description, schema: BOOL}
}

function number(
  kind: 'int' | 'number',
  d: Common & {default: number; baseline?: number; min: number; max: number},
): SettingDef<number> & {default: number} {
  return {kind, ...d, schema: numberSchema(kind === 'int', d.min, d.max)}
}

/** Text (or a path, resolved against the working directory); no default: unset unless given. */
function text<D extends string | undefined = undefined>(
  kind: 'string' | 'path',
  d: Common & {default?: D; secret?: true; pattern?: {regex: RegExp; message: string}},
): SettingDef<string> & {default: D} {
  const {pattern, ...rest} = d
  const schema = pattern ? v.pipe(TEXT, v.regex(pattern.regex, pattern.message)) : TEXT
  return {kind, ...rest, default: d.default as D, schema}
}

function choice<O extends string>(
  options: readonly [O, ...O[]],
  d: Common & {default: O},
): SettingDef<O> & {default: O} {
  return {
    kind: 'string',
    ...d,
    options,
    schema: v.pipe(TEXT, v.picklist(options, `is not one of ${options.join(', ')}`)),
  }
}

export const SETTING_DEFS = {
  FEATURE_PARSE_CACHE: feature('SQLite parse cache keyed by content hash'),
  FEATURE_BATCHING: feature('debounce, dedup and batch file events'),
  FEATURE_NEO4J_BATCH: feature('UNWIND batch writes to Neo4j instead of one transaction per entity'),
  FEATURE_PARALLEL: feature('worker pool instead of sequential parsing'),
  FEATURE_METRICS: feature('Prometheus metrics collection and endpoint'),
  // `auto` (the default): the available parallelism capped at the runbook's 4; on 2 cores every worker past
  // two added CPU per file without adding speed (issue 18). `auto` is resolved here, so readers get a number.
  INGEST_WORKERS: ((auto: number) => {
    const d = number('int', {
      default: auto,
      baseline: 1,
      min: 1,
      max: 64,
      overridable: true,
      description: 'workers in the parse pool; auto (the default) is the available parallelism capped at 4',
    })
    const autoWord = v.transform((raw: unknown) => (String(raw).trim().toLowerCase() === 'auto' ? auto : raw))
    return {...d, schema: v.pipe(v.unknown(), autoWord, d.schema)}
  })(Math.min(4, availableParallelism())),
  BATCH_SIZE_THRESHOLD: number('int', {
    default: 50,
    baseline: 1,
    min: 1,
    max: 100_000,
    overridable: true,
    description: 'files per batch',
  }),
  DEBOUNCE_WINDOW_SECONDS: number('number', {
    default: 5,
    baseline: 0,
    min: 0,
    max: 3600,
    overridable: true,
    description: 'debounce delay in seconds',
  }),
  LINEAGE_RAW_DIR: text('path', {default: 'data/raw', description: 'the watched folder of SQL files'}),
  LINEAGE_OUT_DIR: text('path', {default: 'data/output', description: 'where lineage JSON is written'}),
  LINEAGE_FAILED_FILE: text('path', {
    default: 'data/failed_ingestion.jsonl',
    description: 'graph writes that failed, for retry-failed',
  }),
  LINEAGE_CACHE_FILE: text('path', {default: 'data/cache/parse-cache.sqlite', description: 'the parse cache'}),
  LINEAGE_STATE_DIR: text('path', {default: 'data/state', description: 'flag overrides and their audit log'}),
  LINEAGE_LOG_FILE: text('path', {default: 'logs/ingestion.log', description: 'structured log of watch'}),
  LINEAGE_EXTENSIONS: text('string', {default: '.sql', description: 'comma-separated file extensions to ingest'}),
  LINEAGE_DIALECT: text('string', {default: 'ansi', description: 'SQL dialect (sqlfluff names)'}),
  LINEAGE_DEFAULT_DATABASE: text('string', {description: 'database that qualifies unqualified table names'}),
  LINEAGE_DEFAULT_SCHEMA: text('string', {description: 'schema that qualifies unqualified table names'}),
  LINEAGE_MAX_FILE_MB: number('number', {default: 16, min: 0.001, max: 4096, description: 'larger files are refused'}),
  LINEAGE_MASS_RETRACT_SHARE: number('number', {
    default: 0.5,
    min: 0,
    max: 1,
    description: 'a reconcile retracting more than this share of the folder is held (watch --allow-mass-retract)',
  }),
  // From measurement (docs/performance.md, issue 12): the bench corpus's slowest file parses in 1 s idle and
  // in 15 s with 4 workers on 2 cores at a load average of 17; one that still runs out is retried, not final.
  LINEAGE_PARSE_TIMEOUT_SECONDS: number('number', {
    default: 60,
    min: 0.1,
    max: 3600,
    description: 'per-file parse time limit (80% of it is the soft budget between statements)',
  }),
  // A statement of warehouse SQL parses in milliseconds (docs/performance.md); one that takes seconds is on a
  // grammar's exponential path (issue 15), which only ending its worker stops.
  LINEAGE_STATEMENT_BUDGET_SECONDS: number('number', {
    default: 2,
    min: 0.05,
    max: 3600,
    description:
      'per-statement parse time limit: a statement still parsing after it is stopped (its worker replaced) and read by the token scan (E_PARSE_BUDGET)',
  }),
  LINEAGE_INCOMPLETE_RETRY_SECONDS: number('number', {
    default: 30,
    min: 0,
    max: 86_400,
    description:
      'a file whose parse ran out of time is parsed again with a longer limit once watch is idle this long; 0: at the next start only',
  }),
  LINEAGE_WORKER_MAX_MB: number('int', {
    default: 512,
    min: 32,
    max: 65_536,
    description: 'heap limit of each parse worker',
  }),
  LINEAGE_NAMESPACE: text('string', {
    description:
      'namespace of the watched files in Neo4j (part of the SqlFile key) and of OpenLineage jobs and datasets; ' +
      'unset: file://<host><watched folder>',
  }),
  LINEAGE_OPENLINEAGE_URL: text('string', {
    secret: true,
    description: 'OpenLineage endpoint watch sends one event per ingested file to (Marquez: http://host:5000)',
    pattern: {regex: /^https?:\/\/[^\s]+$/i, message: 'is not an http:// or https:// URL'},
  }),
  METRICS_PORT: number('int', {default: 8000, min: 0, max: 65_535, description: 'Prometheus metrics port'}),
  METRICS_HOST: text('string', {default: '0.0.0.0', description: 'address the metrics endpoint binds'}),
  NEO4J_URI: text('string', {
    description: 'Neo4j Bolt URI; unset: the graph is off',
    pattern: {regex: /^(bolt|neo4j)(\+s|\+ssc)?:\/\/[^\s]+$/, message: 'is not a bolt:// or neo4j:// URI'},
  }),
  NEO4J_USER: text('string', {default: 'neo4j', description: 'Neo4j user'}),
  NEO4J_PASSWORD: text('string', {secret: true, description: 'Neo4j password'}),
  NEO4J_PASSWORD_FILE: text('path', {description: 'file holding the Neo4j password'}),
  NEO4J_DATABASE: text('string', {description: 'Neo4j database (server default)'}),
  LINEAGE_SERVICE_MANAGER: choice(['none', 'systemd', 'compose', 'kubernetes'], {
    default: 'none',
    description: 'where the service runs, for rollback --restart',
  }),
  LINEAGE_SYSTEMD_UNIT: text('string', {default: 'lineage-ingestion.service', description: 'systemd unit'}),
  LINEAGE_SYSTEMD_DROPIN_DIR: text('path', {
    default: '/etc/systemd/system',
    description: 'where systemd drop-ins are written',
  }),
  LINEAGE_COMPOSE_SERVICE: text('string', {default: 'ingestion', description: 'docker compose service'}),
  LINEAGE_COMPOSE_FILE: text('path', {description: 'docker compose file'}),
  LINEAGE_COMPOSE_ENV_FILE: text('path', {default: 'lineage-flags.env', description: 'env file for compose'}),
  LINEAGE_K8S_DEPLOYMENT: text('string', {default: 'ingestion', description: 'Kubernetes deployment'}),
  LINEAGE_K8S_NAMESPACE: text('string', {description: 'Kubernetes namespace'}),
  LINEAGE_RESTART_TIMEOUT_SECONDS: number('number', {
    default: 120,
    min: 1,
    max: 3600,
    description: 'how long --restart waits for health',
  }),
}

export type SettingKey = keyof typeof SETTING_DEFS

/** The type of each setting's value: its schema's output, or undefined when it has no default. */
export type SettingValues = {
  [K in SettingKey]: (typeof SETTING_DEFS)[K] extends {schema: v.GenericSchema<unknown, infer T>; default: infer D}
    ? T | D
    : never
}

/** The environment variable of each feature, as the runbook names them. */
export const FEATURE_ENV = {
  'parse-cache': 'FEATURE_PARSE_CACHE',
  batching: 'FEATURE_BATCHING',
  'neo4j-batch': 'FEATURE_NEO4J_BATCH',
  parallel: 'FEATURE_PARALLEL',
  metrics: 'FEATURE_METRICS',
} as const satisfies Record<Feature, SettingKey>
