/**
 * Settings: every tunable of the service, where each value comes from, and its validation.
 *
 * Resolution, highest first: an operator override (the state file written by `rollback` and `flags`),
 * a command-line flag, the environment, the `--config` JSON file, the default. Each value keeps its
 * source so `flags status` can show it. Bad values are collected and thrown together as one
 * configuration error (exit 78). Secrets (the Neo4j password) are resolved here and never printed.
 */
import {readFileSync} from 'node:fs'
import {resolve} from 'node:path'

import {LineageError} from '../errors.js'
import {type FlagState, loadFlagState, overrideValues} from './flag-state.js'

export const FEATURES = ['parse-cache', 'batching', 'neo4j-batch', 'parallel', 'metrics'] as const
export type Feature = (typeof FEATURES)[number]

/** The environment variable of each feature, as the runbook names them. */
export const FEATURE_ENV: Record<Feature, string> = {
  'parse-cache': 'FEATURE_PARSE_CACHE',
  batching: 'FEATURE_BATCHING',
  'neo4j-batch': 'FEATURE_NEO4J_BATCH',
  parallel: 'FEATURE_PARALLEL',
  metrics: 'FEATURE_METRICS',
}

/** Gradual rollback disables in this order; re-enabling goes the other way (metrics is not part of it). */
export const ROLLBACK_ORDER: readonly Feature[] = ['parallel', 'neo4j-batch', 'batching', 'parse-cache']

export type SettingKind = 'bool' | 'int' | 'number' | 'string' | 'path'
export type SettingValue = boolean | number | string
export type Source = 'override' | 'flag' | 'env' | 'config' | 'default'

export interface SettingSpec {
  key: string
  kind: SettingKind
  default: SettingValue | undefined
  /** The value of the all-off baseline, for features and tuning. */
  baseline?: SettingValue
  min?: number
  max?: number
  options?: readonly string[]
  secret?: boolean
  /** Operators may override it through the state file (features and tuning). */
  overridable?: boolean
  description: string
}

const FEATURE_DESCRIPTIONS: Record<Feature, string> = {
  'parse-cache': 'SQLite parse cache keyed by content hash',
  batching: 'debounce, dedup and batch file events',
  'neo4j-batch': 'UNWIND batch writes to Neo4j instead of one transaction per entity',
  parallel: 'worker pool instead of sequential parsing',
  metrics: 'Prometheus metrics collection and endpoint',
}

export const SETTINGS: readonly SettingSpec[] = [
  ...FEATURES.map((f): SettingSpec => ({
    key: FEATURE_ENV[f],
    kind: 'bool',
    default: true,
    baseline: false,
    overridable: true,
    description: FEATURE_DESCRIPTIONS[f],
  })),
  {
    key: 'INGEST_WORKERS',
    kind: 'int',
    default: 4,
    baseline: 1,
    min: 1,
    max: 64,
    overridable: true,
    description: 'workers in the parse pool',
  },
  {
    key: 'BATCH_SIZE_THRESHOLD',
    kind: 'int',
    default: 50,
    baseline: 1,
    min: 1,
    max: 100_000,
    overridable: true,
    description: 'files per batch',
  },
  {
    key: 'DEBOUNCE_WINDOW_SECONDS',
    kind: 'number',
    default: 5,
    baseline: 0,
    min: 0,
    max: 3600,
    overridable: true,
    description: 'debounce delay in seconds',
  },
  {key: 'LINEAGE_RAW_DIR', kind: 'path', default: 'data/raw', description: 'the watched folder of SQL files'},
  {key: 'LINEAGE_OUT_DIR', kind: 'path', default: 'data/output', description: 'where lineage JSON is written'},
  {
    key: 'LINEAGE_FAILED_FILE',
    kind: 'path',
    default: 'data/failed_ingestion.jsonl',
    description: 'graph writes that failed, for retry-failed',
  },
  {key: 'LINEAGE_CACHE_FILE', kind: 'path', default: 'data/cache/parse-cache.sqlite', description: 'the parse cache'},
  {key: 'LINEAGE_STATE_DIR', kind: 'path', default: 'data/state', description: 'flag overrides and their audit log'},
  {key: 'LINEAGE_LOG_FILE', kind: 'path', default: 'logs/ingestion.log', description: 'structured log of watch'},
  {
    key: 'LINEAGE_EXTENSIONS',
    kind: 'string',
    default: '.sql',
    description: 'comma-separated file extensions to ingest',
  },
  {key: 'LINEAGE_DIALECT', kind: 'string', default: 'ansi', description: 'SQL dialect (sqlfluff names)'},
  {
    key: 'LINEAGE_MAX_FILE_MB',
    kind: 'number',
    default: 16,
    min: 0.001,
    max: 4096,
    description: 'larger files are refused',
  },
  {
    key: 'LINEAGE_PARSE_TIMEOUT_SECONDS',
    kind: 'number',
    default: 20,
    min: 0.1,
    max: 3600,
    description: 'per-file parse time limit',
  },
  {
    key: 'LINEAGE_WORKER_MAX_MB',
    kind: 'int',
    default: 512,
    min: 32,
    max: 65_536,
    description: 'heap limit of each parse worker',
  },
  {key: 'METRICS_PORT', kind: 'int', default: 8000, min: 0, max: 65_535, description: 'Prometheus metrics port'},
  {key: 'METRICS_HOST', kind: 'string', default: '0.0.0.0', description: 'address the metrics endpoint binds'},
  {key: 'NEO4J_URI', kind: 'string', default: undefined, description: 'Neo4j Bolt URI; unset: the graph is off'},
  {key: 'NEO4J_USER', kind: 'string', default: 'neo4j', description: 'Neo4j user'},
  {key: 'NEO4J_PASSWORD', kind: 'string', default: undefined, secret: true, description: 'Neo4j password'},
  {key: 'NEO4J_PASSWORD_FILE', kind: 'path', default: undefined, description: 'file holding the Neo4j password'},
  {key: 'NEO4J_DATABASE', kind: 'string', default: undefined, description: 'Neo4j database (server default)'},
  {
    key: 'LINEAGE_SERVICE_MANAGER',
    kind: 'string',
    default: 'none',
    options: ['none', 'systemd', 'compose', 'kubernetes'],
    description: 'where the service runs, for rollback --restart',
  },
  {key: 'LINEAGE_SYSTEMD_UNIT', kind: 'string', default: 'lineage-ingestion.service', description: 'systemd unit'},
  {
    key: 'LINEAGE_SYSTEMD_DROPIN_DIR',
    kind: 'path',
    default: '/etc/systemd/system',
    description: 'where systemd drop-ins are written',
  },
  {key: 'LINEAGE_COMPOSE_SERVICE', kind: 'string', default: 'ingestion', description: 'docker compose service'},
  {key: 'LINEAGE_COMPOSE_FILE', kind: 'path', default: undefined, description: 'docker compose file'},
  {key: 'LINEAGE_COMPOSE_ENV_FILE', kind: 'path', default: 'lineage-flags.env', description: 'env file for compose'},
  {key: 'LINEAGE_K8S_DEPLOYMENT', kind: 'string', default: 'ingestion', description: 'Kubernetes deployment'},
  {key: 'LINEAGE_K8S_NAMESPACE', kind: 'string', default: undefined, description: 'Kubernetes namespace'},
  {
    key: 'LINEAGE_RESTART_TIMEOUT_SECONDS',
    kind: 'number',
    default: 120,
    min: 1,
    max: 3600,
    description: 'how long --restart waits for health',
  },
]

const SPEC_BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]))

export function settingSpec(key: string): SettingSpec {
  const spec = SPEC_BY_KEY.get(key)
  if (!spec) throw new LineageError('E_CONFIG', `unknown setting ${key}`)
  return spec
}

export interface ResolvedValue {
  key: string
  value: SettingValue | undefined
  source: Source
  /** The environment's own value, as text, whatever won. */
  envValue: string | undefined
}

export interface Settings {
  features: Record<Feature, boolean>
  workers: number
  batchSize: number
  debounceMs: number
  rawDir: string
  outDir: string
  failedFile: string
  cacheFile: string
  stateDir: string
  logFile: string
  extensions: string[]
  dialect: string
  maxFileBytes: number
  parseTimeoutMs: number
  workerMaxMb: number
  metrics: {port: number; host: string}
  neo4j: {uri: string; user: string; password: string; database: string | undefined} | undefined
  serviceManager: ServiceManagerSettings
  /** Every value with its source, in SETTINGS order, for `flags status`; secrets are masked. */
  values: ResolvedValue[]
}

export interface ServiceManagerSettings {
  kind: 'none' | 'systemd' | 'compose' | 'kubernetes'
  systemdUnit: string
  systemdDropInDir: string
  composeService: string
  composeFile: string | undefined
  composeEnvFile: string
  k8sDeployment: string
  k8sNamespace: string | undefined
  restartTimeoutMs: number
}

export interface SettingsInput {
  env?: NodeJS.ProcessEnv
  /** Path of a JSON config file (keys are setting names). */
  configFile?: string | undefined
  /** Values from command-line flags, keyed by setting name; undefined entries are ignored. */
  flags?: Record<string, SettingValue | undefined>
  /** Operator overrides from the state file, keyed by setting name. */
  overrides?: Record<string, SettingValue>
  /** Paths resolve against this folder (default: the working directory). */
  cwd?: string
}

/** Parse text into a typed value, or return an error sentence. */
export function parseValue(spec: SettingSpec, raw: unknown): {value: SettingValue} | {error: string} {
  if (spec.kind === 'bool') {
    if (typeof raw === 'boolean') return {value: raw}
    const text = String(raw).trim().toLowerCase()
    if (['true', '1', 'yes', 'on'].includes(text)) return {value: true}
    if (['false', '0', 'no', 'off'].includes(text)) return {value: false}
    return {error: `${spec.key}=${String(raw)} is not a boolean (use true or false)`}
  }
  if (spec.kind === 'int' || spec.kind === 'number') {
    const n = typeof raw === 'number' ? raw : Number(String(raw).trim())
    const text = String(raw).trim()
    if (text === '' || !Number.isFinite(n)) return {error: `${spec.key}=${String(raw)} is not a number`}
    if (spec.kind === 'int' && !Number.isInteger(n)) return {error: `${spec.key}=${String(raw)} is not a whole number`}
    if (spec.min !== undefined && n < spec.min) return {error: `${spec.key}=${String(raw)} is below ${spec.min}`}
    if (spec.max !== undefined && n > spec.max) return {error: `${spec.key}=${String(raw)} is above ${spec.max}`}
    return {value: n}
  }
  const text = String(raw)
  if (spec.options && !spec.options.includes(text)) {
    return {error: `${spec.key}=${text} is not one of ${spec.options.join(', ')}`}
  }
  return {value: text}
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new LineageError('E_CONFIG', `cannot read config file ${file}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new LineageError('E_CONFIG', `config file ${file} is not valid JSON: ${(error as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LineageError('E_CONFIG', `config file ${file} must hold a JSON object of settings`)
  }
  const unknownKeys = Object.keys(parsed).filter((k) => !SPEC_BY_KEY.has(k))
  if (unknownKeys.length > 0) {
    throw new LineageError('E_CONFIG', `config file ${file} has unknown settings: ${unknownKeys.join(', ')}`)
  }
  return parsed as Record<string, unknown>
}

/** Resolve every setting; throws one configuration error (exit 78) listing each bad value. */
export function resolveSettings(input: SettingsInput = {}): Settings {
  const env = input.env ?? process.env
  const cwd = input.cwd ?? process.cwd()
  const config = input.configFile ? readConfigFile(input.configFile) : {}
  const errors: string[] = []
  const values: ResolvedValue[] = []
  const byKey = new Map<string, SettingValue | undefined>()

  for (const spec of SETTINGS) {
    const envRaw = env[spec.key]
    const envValue = envRaw === undefined || envRaw === '' ? undefined : envRaw
    const candidates: [Source, unknown][] = [
      ['override', spec.overridable ? input.overrides?.[spec.key] : undefined],
      ['flag', input.flags?.[spec.key]],
      ['env', envValue],
      ['config', config[spec.key]],
    ]
    let chosen: ResolvedValue = {key: spec.key, value: spec.default, source: 'default', envValue}
    for (const [source, raw] of candidates) {
      if (raw === undefined || raw === null) continue
      const parsed = parseValue(spec, raw)
      if ('error' in parsed) {
        errors.push(`${parsed.error} (from ${source})`)
        break
      }
      chosen = {key: spec.key, value: parsed.value, source, envValue}
      break
    }
    if (spec.kind === 'path' && typeof chosen.value === 'string') chosen.value = resolve(cwd, chosen.value)
    byKey.set(spec.key, chosen.value)
    values.push(
      spec.secret
        ? {...chosen, value: chosen.value === undefined ? undefined : '***', envValue: envValue && '***'}
        : chosen,
    )
  }

  const password = resolvePassword(byKey, errors)
  const uri = byKey.get('NEO4J_URI') as string | undefined
  if (uri !== undefined && !/^(bolt|neo4j)(\+s|\+ssc)?:\/\/[^\s]+$/.test(uri)) {
    errors.push(`NEO4J_URI=${uri} is not a bolt:// or neo4j:// URI`)
  }
  const extensions = String(byKey.get('LINEAGE_EXTENSIONS'))
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '')
    .map((e) => (e.startsWith('.') ? e : `.${e}`))
  if (extensions.length === 0) errors.push('LINEAGE_EXTENSIONS names no extension')

  if (errors.length > 0) {
    throw new LineageError(
      'E_CONFIG',
      `invalid configuration:\n  ${errors.join('\n  ')}`,
      'Fix the values above (environment, --config file or flags) and run again.',
    )
  }
  const str = (k: string): string => byKey.get(k) as string
  const num = (k: string): number => byKey.get(k) as number
  const features = Object.fromEntries(FEATURES.map((f) => [f, byKey.get(FEATURE_ENV[f]) as boolean])) as Record<
    Feature,
    boolean
  >
  return {
    features,
    workers: num('INGEST_WORKERS'),
    batchSize: num('BATCH_SIZE_THRESHOLD'),
    debounceMs: Math.round(num('DEBOUNCE_WINDOW_SECONDS') * 1000),
    rawDir: str('LINEAGE_RAW_DIR'),
    outDir: str('LINEAGE_OUT_DIR'),
    failedFile: str('LINEAGE_FAILED_FILE'),
    cacheFile: str('LINEAGE_CACHE_FILE'),
    stateDir: str('LINEAGE_STATE_DIR'),
    logFile: str('LINEAGE_LOG_FILE'),
    extensions,
    dialect: str('LINEAGE_DIALECT'),
    maxFileBytes: Math.round(num('LINEAGE_MAX_FILE_MB') * 1024 * 1024),
    parseTimeoutMs: Math.round(num('LINEAGE_PARSE_TIMEOUT_SECONDS') * 1000),
    workerMaxMb: num('LINEAGE_WORKER_MAX_MB'),
    metrics: {port: num('METRICS_PORT'), host: str('METRICS_HOST')},
    neo4j:
      uri === undefined
        ? undefined
        : {uri, user: str('NEO4J_USER'), password, database: byKey.get('NEO4J_DATABASE') as string | undefined},
    serviceManager: {
      kind: str('LINEAGE_SERVICE_MANAGER') as ServiceManagerSettings['kind'],
      systemdUnit: str('LINEAGE_SYSTEMD_UNIT'),
      systemdDropInDir: str('LINEAGE_SYSTEMD_DROPIN_DIR'),
      composeService: str('LINEAGE_COMPOSE_SERVICE'),
      composeFile: byKey.get('LINEAGE_COMPOSE_FILE') as string | undefined,
      composeEnvFile: str('LINEAGE_COMPOSE_ENV_FILE'),
      k8sDeployment: str('LINEAGE_K8S_DEPLOYMENT'),
      k8sNamespace: byKey.get('LINEAGE_K8S_NAMESPACE') as string | undefined,
      restartTimeoutMs: Math.round(num('LINEAGE_RESTART_TIMEOUT_SECONDS') * 1000),
    },
    values,
  }
}

function resolvePassword(byKey: Map<string, SettingValue | undefined>, errors: string[]): string {
  const file = byKey.get('NEO4J_PASSWORD_FILE') as string | undefined
  if (file === undefined) return (byKey.get('NEO4J_PASSWORD') as string | undefined) ?? ''
  try {
    // Secret files conventionally end with a newline (Docker and Kubernetes secrets); it is not part of it.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
  } catch (error) {
    errors.push(`NEO4J_PASSWORD_FILE=${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
    return ''
  }
}

/** Settings with the operator overrides of the state folder applied (the folder is itself a setting). */
export function loadSettings(input: SettingsInput = {}): {settings: Settings; state: FlagState} {
  const first = resolveSettings(input)
  const state = loadFlagState(first.stateDir)
  if (Object.keys(state.overrides).length === 0) return {settings: first, state}
  return {settings: resolveSettings({...input, overrides: overrideValues(state)}), state}
}
