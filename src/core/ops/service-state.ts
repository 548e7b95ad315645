/**
 * The running service's own report of itself: `STATE_DIR/service.json`, rewritten about once a second
 * while `watch` runs. Ops commands read it to tell whether a service is alive (heartbeat age), which flag
 * revision it has applied, and where its metrics endpoint listens, even when metrics are off. The file is
 * parsed through ServiceReportSchema: a report that is missing, unreadable or not of that shape is no report
 * (no service). Throws nothing but the file system's errors when writing.
 */
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import * as v from 'valibot'

import {writeFileAtomic} from '../util/fs.js'
import {processAlive} from '../util/process.js'
import {parseJson} from '../util/schema.js'
import {type Feature, FEATURES} from './settings.js'

const featureFlags = Object.fromEntries(FEATURES.map((f) => [f, v.boolean()])) as Record<
  Feature,
  v.BooleanSchema<undefined>
>

export const ServiceReportSchema = v.object({
  pid: v.pipe(v.number(), v.integer()),
  host: v.string(),
  startedAt: v.string(),
  heartbeatAt: v.string(),
  status: v.picklist(['starting', 'ok', 'degraded', 'stopping']),
  appliedRevision: v.number(),
  features: v.object(featureFlags),
  workers: v.number(),
  metricsUrl: v.nullable(v.string()),
  rawDir: v.string(),
  outDir: v.string(),
  graph: v.picklist(['on', 'off']),
  problems: v.array(v.string()),
  queueSize: v.number(),
  filesProcessed: v.number(),
})
export type ServiceReport = v.InferOutput<typeof ServiceReportSchema>

/** A heartbeat older than this means the service is gone (killed without cleaning up). */
export const HEARTBEAT_STALE_MS = 5000

export function serviceFile(stateDir: string): string {
  return join(stateDir, 'service.json')
}

export function writeServiceReport(stateDir: string, report: ServiceReport): void {
  writeFileAtomic(serviceFile(stateDir), `${JSON.stringify(report, null, 2)}\n`, {fsync: false})
}

export function removeServiceReport(stateDir: string, pid: number): void {
  const current = readServiceReport(stateDir)
  if (current?.pid === pid) rmSync(serviceFile(stateDir), {force: true})
}

export function readServiceReport(stateDir: string): ServiceReport | undefined {
  let text: string
  try {
    text = readFileSync(serviceFile(stateDir), 'utf8')
  } catch {
    return undefined
  }
  const json = parseJson(text)
  const parsed = json.ok ? v.safeParse(ServiceReportSchema, json.value) : undefined
  return parsed?.success ? parsed.output : undefined
}

/** Alive: a fresh heartbeat from a process that still exists (same host). */
export function serviceAlive(report: ServiceReport | undefined, now = Date.now()): boolean {
  if (!report) return false
  if (now - Date.parse(report.heartbeatAt) > HEARTBEAT_STALE_MS) return false
  return processAlive(report.pid)
}

export interface ApplyStatus {
  /** none: no running service found; applied: it reports this revision (or later); pending: not yet. */
  service: 'none' | 'applied' | 'pending'
  pid?: number
  appliedRevision?: number
  waitedMs: number
}

/** Wait (up to timeoutMs) until a running local service reports it has applied `revision`. */
export async function waitForApplied(stateDir: string, revision: number, timeoutMs: number): Promise<ApplyStatus> {
  const started = Date.now()
  for (;;) {
    const report = readServiceReport(stateDir)
    const waitedMs = Date.now() - started
    if (!serviceAlive(report) || !report) return {service: 'none', waitedMs}
    if (report.appliedRevision >= revision) {
      return {service: 'applied', pid: report.pid, appliedRevision: report.appliedRevision, waitedMs}
    }
    if (waitedMs >= timeoutMs) {
      return {service: 'pending', pid: report.pid, appliedRevision: report.appliedRevision, waitedMs}
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
