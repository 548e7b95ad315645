/**
 * The checks `lineage verify` runs, each ending OK, WARNING, CRITICAL or UNKNOWN with a one-line reason, and
 * the deadline that bounds them (a check still running when it passes is UNKNOWN). None throws: a check that
 * fails to run is UNKNOWN with the reason.
 */
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {CANARY_PREFIX, countFailures} from '../ingest/dead-letter.js'
import {errorMessage, isLineageError} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'
import {outputFileFor} from '../ingest/file-task.js'
import type {FlagState} from './flag-state.js'
import {silentLogger} from '../logger.js'
import {checkCache} from '../cache/integrity.js'
import {serviceAlive, type ServiceReport} from './service-state.js'
import {settingsNamespace} from './namespace.js'
import {type Settings} from './settings.js'

import {EXPECTED_METRICS, type CheckStatus} from './verify.js'

export type Outcome = [CheckStatus, string]

export interface Ctx {
  settings: Settings
  state: FlagState
  report: ServiceReport | undefined
  baseUrl: string | undefined
  serviceUp: boolean
  deadline: number
  /** Figures for the perfdata (verify-perf.ts), filled by the checks that measure them. */
  perf: {backlog?: number}
}

async function fetchText(url: string, timeoutMs: number): Promise<{status: number; body: string}> {
  const res = await fetch(url, {signal: AbortSignal.timeout(Math.max(100, timeoutMs))})
  return {status: res.status, body: await res.text()}
}

function remaining(ctx: Ctx): number {
  return Math.max(0, ctx.deadline - Date.now())
}

export async function withDeadline(ctx: Ctx, fn: () => Promise<Outcome>): Promise<Outcome> {
  const left = remaining(ctx)
  if (left <= 0) return ['UNKNOWN', 'not checked: the total timeout was reached']
  // An abortable wait for the deadline, cancelled as soon as the check ends: it keeps the process alive while
  // a check runs (as a check waiting on nothing else must still end as UNKNOWN) and not a moment after.
  const done = new AbortController()
  const late: Outcome = ['UNKNOWN', 'not finished within the total timeout']
  // Aborted only once the race is settled, so what the aborted wait returns is never seen.
  const expired = sleep(left, late, {signal: done.signal}).catch(() => late)
  try {
    return await Promise.race([fn(), expired])
  } catch (error) {
    return ['UNKNOWN', `check failed: ${errorMessage(error)}`]
  } finally {
    done.abort()
  }
}

export function checkFlags(ctx: Ctx): Outcome {
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

export async function checkService(ctx: Ctx): Promise<Outcome> {
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
      const problems = health.problems ?? []
      // The watched folder gone, or a mass retraction held: no lineage is being kept, not merely late.
      const lost = problems.some((p) => p.startsWith('the watched folder') || p.includes('would be retracted'))
      return [lost ? 'CRITICAL' : 'WARNING', `service is ${String(health.status)}: ${problems.join('; ')}`]
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

export async function checkMetrics(ctx: Ctx): Promise<Outcome> {
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

export async function checkNeo4j(ctx: Ctx): Promise<Outcome> {
  const conn = ctx.settings.neo4j
  if (!conn) return ['OK', 'graph off (NEO4J_URI not set)']
  const {GraphWriter} = await import('../graph/writer.js')
  let writer: Awaited<ReturnType<typeof GraphWriter.connect>> | undefined
  try {
    writer = await GraphWriter.connect(conn, {
      logger: silentLogger,
      namespace: settingsNamespace(ctx.settings),
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

export function checkCacheIntegrity(ctx: Ctx): Outcome {
  const file = ctx.settings.cacheFile
  if (!existsSync(file)) return ['OK', 'no parse cache yet']
  const r = checkCache(file)
  return r.ok
    ? ['OK', `parse cache ${file} passes the integrity check`]
    : ['WARNING', `parse cache damaged (${r.problems.slice(0, 2).join('; ')}): run lineage cache clear`]
}

export function checkBacklog(ctx: Ctx): Outcome {
  const n = countFailures(ctx.settings.failedFile)
  ctx.perf.backlog = n
  if (n === 0) return ['OK', 'no failed graph writes waiting']
  return ['WARNING', `${n} failed graph write(s) waiting: run lineage retry-failed ${ctx.settings.failedFile}`]
}

async function waitUntil(ctx: Ctx, test: () => Promise<boolean> | boolean): Promise<boolean> {
  for (;;) {
    if (await test()) return true
    if (remaining(ctx) <= 200) return false
    await sleep(200)
  }
}

export async function checkCanary(ctx: Ctx): Promise<Outcome> {
  if (!ctx.serviceUp) return ['UNKNOWN', 'skipped: no running service to ingest the canary']
  const s = ctx.settings
  const id = `${Date.now().toString(36)}${process.pid.toString(36)}`
  const rel = `${CANARY_PREFIX}${id}.sql`
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
        namespace: settingsNamespace(s),
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
