/**
 * `lineage verify`: the health check that cron and monitoring run. Each check ends OK, WARNING, CRITICAL or
 * UNKNOWN with a one-line reason; the overall status is the worst of them (CRITICAL, then WARNING, then
 * UNKNOWN) and maps onto the monitoring-plugin exit codes. A total deadline bounds the whole run: a check
 * still going when it passes is UNKNOWN, so cron never hangs.
 *
 * On OK it writes a node_exporter textfile (`lineage_verify_last_success_timestamp_seconds`); every run
 * records `lineage_verify_status`. A textfile that cannot be written is a WARNING check of its own (`textfile`).
 */
import {mkdirSync, readFileSync} from 'node:fs'
import {dirname} from 'node:path'

import {errorMessage} from '../errors.js'
import {ExitCode} from '../exit-codes.js'
import {writeFileAtomic} from '../util/fs.js'
import type {FlagState} from './flag-state.js'
import {readServiceReport} from './service-state.js'
import {loadSettings, type Settings, type SettingsInput} from './settings.js'

import {
  checkBacklog,
  checkCacheIntegrity,
  checkCanary,
  checkFlags,
  checkMetrics,
  checkNeo4j,
  checkService,
  type Ctx,
  type Outcome,
  withDeadline,
} from './verify-checks.js'
import {perfdata} from './verify-perf.js'

export type CheckStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN'

export interface CheckResult {
  name: string
  status: CheckStatus
  message: string
  ms: number
}

export interface VerifyResult {
  status: CheckStatus
  exitCode: number
  checks: CheckResult[]
  seconds: number
  textfile: string | null
  /** Nagios/Icinga performance data (verify-perf.ts): what follows `|` on the plugin's first line. */
  perfdata: string
}

export interface VerifyOptions {
  settings: SettingsInput
  timeoutMs: number
  canary: boolean
  /** node_exporter textfile path; null: none. */
  textfile: string | null
  env?: NodeJS.ProcessEnv
}

export const EXPECTED_METRICS = [
  'files_processed_total',
  'files_failed_total',
  'batch_processing_duration_seconds',
  'queue_size',
  'feature_flag_enabled',
] as const

/** Time a canary needs beyond the debounce window: the parse, the output and graph writes, the polling. */
const CANARY_MARGIN_MS = 5000

const EXIT: Record<CheckStatus, number> = {
  OK: ExitCode.OK,
  WARNING: ExitCode.FAILURE,
  CRITICAL: ExitCode.CRITICAL,
  UNKNOWN: ExitCode.UNKNOWN,
}

export function overallStatus(checks: readonly CheckResult[]): CheckStatus {
  for (const s of ['CRITICAL', 'WARNING', 'UNKNOWN'] as const) if (checks.some((c) => c.status === s)) return s
  return 'OK'
}

function writeTextfile(path: string, result: {status: CheckStatus; exitCode: number}): void {
  const now = Date.now() / 1000
  let lastSuccess: number | undefined
  try {
    const match = /^lineage_verify_last_success_timestamp_seconds (\S+)$/m.exec(readFileSync(path, 'utf8'))
    if (match?.[1]) lastSuccess = Number(match[1])
  } catch {
    // first run
  }
  if (result.status === 'OK') lastSuccess = now
  const lines = [
    '# HELP lineage_verify_status Exit status of the last lineage verify (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).',
    '# TYPE lineage_verify_status gauge',
    `lineage_verify_status ${result.exitCode}`,
    '# HELP lineage_verify_last_run_timestamp_seconds When lineage verify last ran.',
    '# TYPE lineage_verify_last_run_timestamp_seconds gauge',
    `lineage_verify_last_run_timestamp_seconds ${now.toFixed(3)}`,
  ]
  if (lastSuccess !== undefined) {
    lines.push(
      '# HELP lineage_verify_last_success_timestamp_seconds When lineage verify last found everything healthy.',
      '# TYPE lineage_verify_last_success_timestamp_seconds gauge',
      `lineage_verify_last_success_timestamp_seconds ${lastSuccess.toFixed(3)}`,
    )
  }
  mkdirSync(dirname(path), {recursive: true})
  writeFileAtomic(path, `${lines.join('\n')}\n`, {fsync: false})
}

export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const started = Date.now()
  const checks: CheckResult[] = []
  const add = (name: string, [status, message]: Outcome, t0: number): void => {
    checks.push({name, status, message, ms: Date.now() - t0})
  }
  let loaded: {settings: Settings; state: FlagState}
  const t0 = Date.now()
  try {
    loaded = loadSettings(options.settings)
    // Tolerant settings (the ops commands): bad values are named as a WARNING, and every other check still runs.
    const bad = loaded.settings.problems
    add('config', bad.length > 0 ? ['WARNING', `invalid: ${bad.join('; ')}`] : ['OK', 'configuration valid'], t0)
  } catch (error) {
    add('config', ['CRITICAL', errorMessage(error).replace(/\n\s*/g, '; ')], t0)
    return finish(checks, started, options, undefined)
  }
  const report = readServiceReport(loaded.settings.stateDir)
  const baseUrl = report?.metricsUrl
    ? report.metricsUrl.replace(/\/metrics$/, '')
    : `http://127.0.0.1:${loaded.settings.metrics.port}`
  // The canary cannot arrive before the debounce window has passed: a shorter timeout would be a false
  // CRITICAL ("not ingesting"), so it is extended, and the run says so.
  const needed = loaded.settings.debounceMs + CANARY_MARGIN_MS
  const timeoutMs = options.canary ? Math.max(options.timeoutMs, needed) : options.timeoutMs
  if (timeoutMs > options.timeoutMs) {
    const note = `timeout extended from ${options.timeoutMs / 1000} s to ${timeoutMs / 1000} s: the canary waits out the ${loaded.settings.debounceMs / 1000} s debounce window`
    add('timeout', ['OK', note], Date.now())
  }
  const ctx: Ctx = {...loaded, report, baseUrl, serviceUp: false, deadline: started + timeoutMs, perf: {}}
  const steps: [string, () => Promise<Outcome> | Outcome][] = [
    // Local checks first: they answer even when a network check runs into the deadline.
    ['flags', () => checkFlags(ctx)],
    ['cache', () => checkCacheIntegrity(ctx)],
    ['backlog', () => checkBacklog(ctx)],
    ['service', () => checkService(ctx)],
    ['metrics', () => checkMetrics(ctx)],
    ['neo4j', () => checkNeo4j(ctx)],
  ]
  if (options.canary) steps.push(['canary', () => checkCanary(ctx)])
  for (const [name, run] of steps) {
    const t = Date.now()
    add(name, await withDeadline(ctx, async () => run()), t)
  }
  return finish(checks, started, options, ctx)
}

async function finish(
  checks: CheckResult[],
  started: number,
  options: VerifyOptions,
  ctx: Ctx | undefined,
): Promise<VerifyResult> {
  let status = overallStatus(checks)
  let exitCode = EXIT[status]
  let textfile: string | null = null
  if (options.textfile) {
    const t = Date.now()
    try {
      writeTextfile(options.textfile, {status, exitCode})
      textfile = options.textfile
    } catch (error) {
      // Not silent: node_exporter would go on serving the last result as if verify still ran. The run becomes
      // a WARNING naming the file (the status the file would have recorded is in the other checks).
      checks.push({
        name: 'textfile',
        status: 'WARNING',
        message: `cannot write the node_exporter textfile ${options.textfile}: ${errorMessage(error)}`,
        ms: Date.now() - t,
      })
      status = overallStatus(checks)
      exitCode = EXIT[status]
    }
  }
  const seconds = (Date.now() - started) / 1000
  return {status, exitCode, checks, seconds, textfile, perfdata: await perfdata(ctx, checks)}
}
