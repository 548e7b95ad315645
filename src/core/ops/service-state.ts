/**
 * The running service's own report of itself: `STATE_DIR/service.json`, rewritten about once a second
 * while `watch` runs. Ops commands read it to tell whether a service is alive (heartbeat age), which flag
 * revision it has applied, and where its metrics endpoint listens, even when metrics are off.
 */
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {writeFileAtomic} from '../util/fs.js'
import type {Feature} from './settings.js'

export interface ServiceReport {
  pid: number
  host: string
  startedAt: string
  heartbeatAt: string
  status: 'starting' | 'ok' | 'degraded' | 'stopping'
  appliedRevision: number
  features: Record<Feature, boolean>
  workers: number
  metricsUrl: string | null
  rawDir: string
  outDir: string
  graph: 'on' | 'off'
  problems: string[]
  queueSize: number
  filesProcessed: number
}

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
  try {
    const parsed = JSON.parse(readFileSync(serviceFile(stateDir), 'utf8')) as unknown
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const r = parsed as Partial<ServiceReport>
    if (typeof r.pid !== 'number' || typeof r.heartbeatAt !== 'string') return undefined
    return parsed as ServiceReport
  } catch {
    return undefined
  }
}

/** Alive: a fresh heartbeat from a process that still exists (same host). */
export function serviceAlive(report: ServiceReport | undefined, now = Date.now()): boolean {
  if (!report) return false
  if (now - Date.parse(report.heartbeatAt) > HEARTBEAT_STALE_MS) return false
  try {
    process.kill(report.pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
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
