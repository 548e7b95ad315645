/**
 * Settings: every tunable of the service, declared once in SETTING_DEFS (environment name, kind, default,
 * baseline, secret flag, bounds or options, description, and the valibot schema that parses it), where each
 * value comes from, and the typed Settings built from them: a misspelt setting name is a compile error.
 *
 * Resolution, highest first: an operator override (the state file written by `rollback` and `flags`),
 * a command-line flag, the environment, the `--config` JSON file, the default. Each value keeps its
 * source so `flags status` can show it. Bad values are collected and thrown together as one
 * configuration error (E_CONFIG, exit 78), as is a config file that cannot be read, is not a JSON object or
 * names an unknown setting. With `tolerant` (the on-call commands: a rollback must never be blocked by an
 * unrelated bad value) a bad value falls back to its default and is reported in `problems` instead; only a
 * config file that cannot be read or parsed still throws, since it may name the state folder. Secrets (the Neo4j password) are resolved here and never printed.
 */
import {readFileSync} from 'node:fs'
import {resolve} from 'node:path'

import * as v from 'valibot'

import {LineageError} from '../errors.js'
import {readConfigFile} from './config-file.js'
import {type FlagState, loadFlagState, overrideValues} from './flag-state.js'
import {
  FEATURE_ENV,
  FEATURES,
  type Feature,
  SETTING_DEFS,
  type SettingDef,
  type SettingKey,
  type SettingValue,
  type SettingValues,
} from './setting-defs.js'

export {
  FEATURE_ENV,
  FEATURES,
  ROLLBACK_ORDER,
  SETTING_DEFS,
  type Feature,
  type SettingDef,
  type SettingKey,
  type SettingKind,
  type SettingValue,
} from './setting-defs.js'

export type Source = 'override' | 'flag' | 'env' | 'config' | 'default'

/** One setting's declaration with its name, as `flags status` and the docs list them. */
export type SettingSpec = SettingDef & {key: SettingKey}

/** Every setting, in declaration order. */
export const SETTINGS: readonly SettingSpec[] = (Object.keys(SETTING_DEFS) as SettingKey[]).map((key) => ({
  key,
  ...SETTING_DEFS[key],
}))

export function settingSpec(key: SettingKey): SettingSpec {
  const spec = SETTINGS.find((s) => s.key === key)
  if (!spec) throw new LineageError('E_CONFIG', `unknown setting ${key}`)
  return spec
}

export interface ResolvedValue {
  key: SettingKey
  value: SettingValue | undefined
  source: Source
  /** The environment's own value, as text, whatever won. */
  envValue: string | undefined
  /** Tolerant mode: why the value given was refused (the default stands in). */
  invalid?: string
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
  defaultDatabase: string | undefined
  defaultSchema: string | undefined
  maxFileBytes: number
  parseTimeoutMs: number
  /** LINEAGE_STATEMENT_BUDGET_SECONDS, in ms: how long one statement may parse before its worker is ended. */
  statementBudgetMs: number
  /** Idle this long before retrying incomplete files, at most once per this long (ms); 0: at the next start. */
  incompleteRetryMs: number
  massRetractShare: number
  workerMaxMb: number
  metrics: {port: number; host: string}
  neo4j: {uri: string; user: string; password: string; database: string | undefined} | undefined
  serviceManager: ServiceManagerSettings
  /** OpenLineage: the endpoint `watch` sends to (unset: none) and the namespace setting (unset: derived). */
  openLineage: {url: string | undefined; namespace: string | undefined}
  /** Every value with its source, in SETTINGS order, for `flags status`; secrets are masked. */
  values: ResolvedValue[]
  /** Tolerant mode: the bad values, one sentence each (strict mode throws them instead). */
  problems: string[]
}

export interface ServiceManagerSettings {
  kind: SettingValues['LINEAGE_SERVICE_MANAGER']
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
  flags?: Partial<Record<SettingKey, SettingValue | undefined>>
  /** Operator overrides from the state file, keyed by setting name (other names are ignored). */
  overrides?: Record<string, SettingValue>
  /** Paths resolve against this folder (default: the working directory). */
  cwd?: string
  /** Report bad values in `problems` and use their defaults, rather than throwing E_CONFIG. */
  tolerant?: boolean
}

/** Parse a value from any source (text, JSON, a flag's value), or return an error sentence naming it. */
export function parseValue(spec: SettingSpec, raw: unknown): {value: SettingValue} | {error: string} {
  const parsed = v.safeParse(spec.schema, raw)
  if (parsed.success) return {value: parsed.output}
  return {error: `${spec.key}=${spec.secret ? '***' : String(raw)} ${parsed.issues[0].message}`}
}

/** The first source that has a value wins; a bad value there is an error (a lower source does not stand in). */
function resolveOne(
  spec: SettingSpec,
  sources: {input: SettingsInput; env: NodeJS.ProcessEnv; config: Record<string, unknown>},
  errors: string[],
): ResolvedValue {
  const envRaw = sources.env[spec.key]
  const envValue = envRaw === undefined || envRaw === '' ? undefined : envRaw
  const candidates: [Source, unknown][] = [
    ['override', spec.overridable ? sources.input.overrides?.[spec.key] : undefined],
    ['flag', sources.input.flags?.[spec.key]],
    ['env', envValue],
    ['config', sources.config[spec.key]],
  ]
  for (const [source, raw] of candidates) {
    if (raw === undefined || raw === null) continue
    const parsed = parseValue(spec, raw)
    if ('error' in parsed) {
      const error = `${parsed.error} (from ${source})`
      errors.push(error)
      return {key: spec.key, value: spec.default, source: 'default', envValue, invalid: error}
    }
    return {key: spec.key, value: parsed.value, source, envValue}
  }
  return {key: spec.key, value: spec.default, source: 'default', envValue}
}

/** Resolve every setting; throws one configuration error (exit 78) listing each bad value. */
export function resolveSettings(input: SettingsInput = {}): Settings {
  const env = input.env ?? process.env
  const cwd = input.cwd ?? process.cwd()
  const errors: string[] = []
  const config = input.configFile ? readConfigFile(input.configFile, input.tolerant ? errors : undefined) : {}
  const values: ResolvedValue[] = []
  const byKey: Partial<Record<SettingKey, SettingValue>> = {}
  for (const spec of SETTINGS) {
    const chosen = resolveOne(spec, {input, env, config}, errors)
    if (spec.kind === 'path' && typeof chosen.value === 'string') chosen.value = resolve(cwd, chosen.value)
    if (chosen.value !== undefined) byKey[spec.key] = chosen.value
    values.push(
      spec.secret
        ? {...chosen, value: chosen.value === undefined ? undefined : '***', envValue: chosen.envValue && '***'}
        : chosen,
    )
  }
  // Each value was parsed by its own setting's schema, or is its default: the record has the declared types.
  const r = byKey as SettingValues
  const password = resolvePassword(r, errors)
  const extensions = extensionList(r.LINEAGE_EXTENSIONS)
  if (extensions.length === 0) errors.push('LINEAGE_EXTENSIONS names no extension')
  if (errors.length > 0 && !input.tolerant) {
    throw new LineageError(
      'E_CONFIG',
      `invalid configuration:\n  ${errors.join('\n  ')}`,
      'Fix the values above (environment, --config file or flags) and run again.',
    )
  }
  return {
    ...toSettings(r, password),
    extensions: extensions.length > 0 ? extensions : ['.sql'],
    values,
    problems: errors,
  }
}

/** The typed Settings from the resolved values (everything but the extensions and the values list). */
function toSettings(r: SettingValues, password: string): Omit<Settings, 'extensions' | 'values' | 'problems'> {
  const seconds = (s: number): number => Math.round(s * 1000)
  return {
    features: Object.fromEntries(FEATURES.map((f) => [f, r[FEATURE_ENV[f]]])) as Record<Feature, boolean>,
    workers: r.INGEST_WORKERS,
    batchSize: r.BATCH_SIZE_THRESHOLD,
    debounceMs: seconds(r.DEBOUNCE_WINDOW_SECONDS),
    rawDir: r.LINEAGE_RAW_DIR,
    outDir: r.LINEAGE_OUT_DIR,
    failedFile: r.LINEAGE_FAILED_FILE,
    cacheFile: r.LINEAGE_CACHE_FILE,
    stateDir: r.LINEAGE_STATE_DIR,
    logFile: r.LINEAGE_LOG_FILE,
    dialect: r.LINEAGE_DIALECT,
    defaultDatabase: r.LINEAGE_DEFAULT_DATABASE,
    defaultSchema: r.LINEAGE_DEFAULT_SCHEMA,
    maxFileBytes: Math.round(r.LINEAGE_MAX_FILE_MB * 1024 * 1024),
    parseTimeoutMs: seconds(r.LINEAGE_PARSE_TIMEOUT_SECONDS),
    statementBudgetMs: seconds(r.LINEAGE_STATEMENT_BUDGET_SECONDS),
    incompleteRetryMs: seconds(r.LINEAGE_INCOMPLETE_RETRY_SECONDS),
    massRetractShare: r.LINEAGE_MASS_RETRACT_SHARE,
    workerMaxMb: r.LINEAGE_WORKER_MAX_MB,
    metrics: {port: r.METRICS_PORT, host: r.METRICS_HOST},
    neo4j:
      r.NEO4J_URI === undefined
        ? undefined
        : {uri: r.NEO4J_URI, user: r.NEO4J_USER, password, database: r.NEO4J_DATABASE},
    openLineage: {url: r.LINEAGE_OPENLINEAGE_URL, namespace: r.LINEAGE_NAMESPACE},
    serviceManager: {
      kind: r.LINEAGE_SERVICE_MANAGER,
      systemdUnit: r.LINEAGE_SYSTEMD_UNIT,
      systemdDropInDir: r.LINEAGE_SYSTEMD_DROPIN_DIR,
      composeService: r.LINEAGE_COMPOSE_SERVICE,
      composeFile: r.LINEAGE_COMPOSE_FILE,
      composeEnvFile: r.LINEAGE_COMPOSE_ENV_FILE,
      k8sDeployment: r.LINEAGE_K8S_DEPLOYMENT,
      k8sNamespace: r.LINEAGE_K8S_NAMESPACE,
      restartTimeoutMs: seconds(r.LINEAGE_RESTART_TIMEOUT_SECONDS),
    },
  }
}

/** `.sql, SQL,txt` -> ['.sql', '.sql', '.txt']: lower-case, each with its dot. */
function extensionList(text: string): string[] {
  return text
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '')
    .map((e) => (e.startsWith('.') ? e : `.${e}`))
}

function resolvePassword(r: SettingValues, errors: string[]): string {
  const file = r.NEO4J_PASSWORD_FILE
  if (file === undefined) return r.NEO4J_PASSWORD ?? ''
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
