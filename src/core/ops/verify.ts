/**
 * `lineage verify`: the health check that cron and monitoring run. Each check ends OK, WARNING, CRITICAL or
 * UNKNOWN with a one-line reason; the overall status is the worst of them (CRITICAL, then WARNING, then
 * UNKNOWN) and maps onto the monitoring-plugin exit codes. A total deadline bounds the whole run: a check
 * still going when it passes is UNKNOWN, so cron never hangs.
 *
 * On OK it writes a node_exporter textfile (`lineage_verify_last_success_timestamp_seconds`); every run
 * records `lineage_verify_status`.
 */
import {existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {countFailures} from '../ingest/dead-letter.js'
import {errorMessage, isLineageError} from '../errors.js'
import {ExitCode} from '../exit-codes.js'
import {writeFileAtomic} from '../util/fs.js'
import {outputFileFor} from '../ingest/file-task.js'
import type {FlagState} from './flag-state.js'
import {silentLogger} from '../logger.js'
import {checkCache} from '../cache/parse-cache.js'
import {readServiceReport, serviceAlive, type ServiceReport} from './service-state.js'
import {loadSettings, type Settings, type SettingsInput} from './settings.js'

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

type Outcome = [CheckStatus, string]

interface Ctx {
  settings: Settings
  state: FlagState
  report: ServiceReport | undefined
  baseUrl: string | undefined
  serviceUp: boolean
  deadline: number
}

async function fetchText(url: string, timeoutMs: number): Promise<{status: number; body: string}> {
  const res = await fetch(url, {signal: AbortSignal.timeout(Math.max(100, timeoutMs))})
  return {status: res.status, body: await res.text()}
}

function remaining(ctx: Ctx): number {
  return Math.max(0, ctx.deadline - Date.now())
}

async function withDeadline(ctx: Ctx, fn: () => Promise<Outcome>): Promise<Outcome> {
  const left = remaining(ctx)
  if (left <= 0) return ['UNKNOWN', 'not checked: the total timeout was reached']
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      resolve(['UNKNOWN', 'not finished within the total timeout'])
    }, left)
  })
  try {
    return await Promise.race([fn(), timeout])
  } catch (error) {
    return ['UNKNOWN', `check failed: ${errorMessage(error)}`]
  } finally {
    clearTimeout(timer)
  }
}

function checkFlags(ctx: Ctx): Outcome {
  const rb = ctx.state.rollback
  if (rb) {
    const off = Object.entries(ctx.settings.features)
      .filter(([, on]) => !on)
      .map(([f]) => f)
    return [
      'WARNING',
      `${rb.kind} rollback active since ${rb.at} by ${rb.by}${rb.reason ? ` (${rb.reason})` : ''}; off: ${off.join(', ')}`,
    ]
  }
  return ['OK', `no rollback active (flag state revision ${ctx.state.revision})`]
}

async function checkService(ctx: Ctx): Promise<Outcome> {
  const m = ctx.settings.serviceManager
  if (m.kind === 'systemd') {
    const {execa} = await import('execa')
    const r = await execa('systemctl', ['is-active', m.systemdUnit], {
      reject: false,
      timeout: remaining(ctx),
      stdin: 'ignore',
    })
    const state = r.stdout.trim() || 'unknown'
    ctx.serviceUp = state === 'active'
    return ctx.serviceUp
      ? ['OK', `systemd unit ${m.systemdUnit} is active`]
      : ['CRITICAL', `systemd unit ${m.systemdUnit} is ${state}`]
  }
  if (ctx.baseUrl) {
    try {
      const r = await fetchText(`${ctx.baseUrl}/healthz`, Math.min(5000, remaining(ctx)))
      const health = JSON.parse(r.body) as {status?: string; problems?: string[]; pid?: number}
      ctx.serviceUp = true
      if (health.status === 'ok' || health.status === 'starting')
        return ['OK', `service pid ${String(health.pid)} is ${health.status}`]
      return ['WARNING', `service is ${String(health.status)}: ${(health.problems ?? []).join('; ')}`]
    } catch {
      // fall through to the heartbeat
    }
  }
  if (serviceAlive(ctx.report)) {
    ctx.serviceUp = true
    return ['OK', `service pid ${String(ctx.report?.pid)} is alive (heartbeat ${ctx.report?.heartbeatAt ?? ''})`]
  }
  const last = ctx.report ? `; last heartbeat ${ctx.report.heartbeatAt}` : ''
  return ['CRITICAL', `no running service found (start it: lineage watch)${last}`]
}

async function checkMetrics(ctx: Ctx): Promise<Outcome> {
  if (!ctx.baseUrl) return ['UNKNOWN', 'no metrics endpoint known (is the service running?)']
  let body: string
  try {
    body = (await fetchText(`${ctx.baseUrl}/metrics`, Math.min(5000, remaining(ctx)))).body
  } catch (error) {
    return [
      ctx.serviceUp ? 'WARNING' : 'UNKNOWN',
      `metrics endpoint ${ctx.baseUrl}/metrics unreachable: ${errorMessage(error)}`,
    ]
  }
  const missing = EXPECTED_METRICS.filter((name) => !new RegExp(`^(# TYPE )?${name}\\b`, 'm').test(body))
  if (missing.length === 0)
    return ['OK', `${ctx.baseUrl}/metrics serves ${EXPECTED_METRICS.length} expected metric names`]
  if (!ctx.settings.features.metrics)
    return ['WARNING', 'metrics collection is off (FEATURE_METRICS=false): only feature_flag_enabled is served']
  return ['WARNING', `metrics endpoint lacks: ${missing.join(', ')}`]
}

async function checkNeo4j(ctx: Ctx): Promise<Outcome> {
  const conn = ctx.settings.neo4j
  if (!conn) return ['OK', 'graph off (NEO4J_URI not set)']
  const {GraphWriter} = await import('../graph/writer.js')
  let writer: Awaited<ReturnType<typeof GraphWriter.connect>> | undefined
  try {
    writer = await GraphWriter.connect(conn, {
      logger: silentLogger,
      connectTimeoutMs: Math.min(10_000, remaining(ctx)),
      createConstraints: false,
    })
    const c = await writer.constraintsPresent()
    return c.ok
      ? ['OK', `Neo4j at ${conn.uri} reachable, constraints present`]
      : ['WARNING', `Neo4j reachable but constraints missing: ${c.missing.join(', ')}`]
  } catch (error) {
    return [
      'CRITICAL',
      `Neo4j at ${conn.uri} unreachable: ${isLineageError(error) ? error.message : errorMessage(error)}`,
    ]
  } finally {
    await writer?.close()
  }
}

function checkCacheIntegrity(ctx: Ctx): Outcome {
  const file = ctx.settings.cacheFile
  if (!existsSync(file)) return ['OK', 'no parse cache yet']
  const r = checkCache(file)
  return r.ok
    ? ['OK', `parse cache ${file} passes the integrity check`]
    : ['WARNING', `parse cache damaged (${r.problems.slice(0, 2).join('; ')}): run lineage cache clear`]
}

function checkBacklog(ctx: Ctx): Outcome {
  const n = countFailures(ctx.settings.failedFile)
  if (n === 0) return ['OK', 'no failed graph writes waiting']
  return ['WARNING', `${n} failed graph write(s) waiting: run lineage retry-failed ${ctx.settings.failedFile}`]
}

async function waitUntil(ctx: Ctx, test: () => Promise<boolean> | boolean): Promise<boolean> {
  for (;;) {
    if (await test()) return true
    if (remaining(ctx) <= 200) return false
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function checkCanary(ctx: Ctx): Promise<Outcome> {
  if (!ctx.serviceUp) return ['UNKNOWN', 'skipped: no running service to ingest the canary']
  const s = ctx.settings
  const id = `${Date.now().toString(36)}${process.pid.toString(36)}`
  const rel = `lineage-verify-canary-${id}.sql`
  const file = join(s.rawDir, rel)
  const out = outputFileFor(s.outDir, rel)
  const started = Date.now()
  writeFileAtomic(
    file,
    `-- written by lineage verify; removed when the check ends\nINSERT INTO lineage_canary_${id} SELECT id FROM lineage_canary_source;\n`,
  )
  let graph: import('../graph/writer.js').GraphWriter | undefined
  try {
    const seenOut = await waitUntil(
      ctx,
      () => existsSync(out) && readFileSync(out, 'utf8').includes(`lineage_canary_${id}`),
    )
    if (!seenOut)
      return ['CRITICAL', `the canary ${rel} did not reach ${s.outDir} in time: the service is not ingesting`]
    if (s.neo4j) {
      const {GraphWriter} = await import('../graph/writer.js')
      graph = await GraphWriter.connect(s.neo4j, {
        logger: silentLogger,
        connectTimeoutMs: Math.min(5000, remaining(ctx)),
        createConstraints: false,
      })
      const g = graph
      const inGraph = await waitUntil(ctx, async () => (await g.fileStates([rel])).get(rel)?.exists === true)
      if (!inGraph) return ['CRITICAL', `the canary reached the output folder but not the graph (see ${s.failedFile})`]
    }
    return [
      'OK',
      `canary ingested in ${((Date.now() - started) / 1000).toFixed(1)} s${s.neo4j ? ' (output and graph)' : ' (output)'}`,
    ]
  } finally {
    rmSync(file, {force: true})
    // The service retracts it from the graph and removes its output when it sees the deletion; wait for that,
    // and remove the output ourselves if it does not come in time.
    const g = graph
    await waitUntil(
      ctx,
      async () => !existsSync(out) && (g ? (await g.fileStates([rel])).get(rel)?.exists !== true : true),
    ).catch(() => false)
    rmSync(out, {force: true})
    await graph?.close()
  }
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
    add('config', ['OK', 'configuration valid'], t0)
  } catch (error) {
    add('config', ['CRITICAL', errorMessage(error).replace(/\n\s*/g, '; ')], t0)
    return finish(checks, started, options)
  }
  const report = readServiceReport(loaded.settings.stateDir)
  const baseUrl = report?.metricsUrl
    ? report.metricsUrl.replace(/\/metrics$/, '')
    : `http://127.0.0.1:${loaded.settings.metrics.port}`
  const ctx: Ctx = {...loaded, report, baseUrl, serviceUp: false, deadline: started + options.timeoutMs}
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
  return finish(checks, started, options)
}

function finish(checks: CheckResult[], started: number, options: VerifyOptions): VerifyResult {
  const status = overallStatus(checks)
  const exitCode = EXIT[status]
  let textfile: string | null = null
  if (options.textfile) {
    try {
      writeTextfile(options.textfile, {status, exitCode})
      textfile = options.textfile
    } catch {
      textfile = null
    }
  }
  return {status, exitCode, checks, seconds: (Date.now() - started) / 1000, textfile}
}
