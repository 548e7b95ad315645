/**
 * What `flags status` reports: every flag and tuning value with its source, the environment's value and
 * the baseline; the active rollback; and whether a running service has applied the current flag state
 * (asked over its /healthz endpoint, whose body is parsed through HealthBodySchema, else read from its
 * heartbeat file). Throws what loadSettings throws (E_CONFIG, E_STATE); an unreachable service is no error.
 */
import * as v from 'valibot'

import type {RollbackRecord} from './flag-state.js'
import {readServiceReport, serviceAlive} from './service-state.js'
import {loadSettings, SETTINGS, type SettingsInput, type SettingValue, type Source} from './settings.js'

export interface FlagStatusRow {
  key: string
  value: SettingValue | undefined
  source: Source
  envValue: string | undefined
  defaultValue: SettingValue | undefined
  baseline: SettingValue | undefined
  description: string
}

export interface ServiceApplied {
  /** How the service was reached: its health endpoint, its heartbeat file, or not at all. */
  via: 'healthz' | 'heartbeat' | 'none'
  pid: number | null
  appliedRevision: number | null
  /** True when it runs with the current revision; null when no service is reachable. */
  applied: boolean | null
  url: string | null
}

export interface FlagStatus {
  stateDir: string
  revision: number
  updatedAt: string | null
  values: FlagStatusRow[]
  rollback: RollbackRecord | null
  service: ServiceApplied
}

/** What is read of a /healthz body (it holds more); anything else at that address is no service of ours. */
const HealthBodySchema = v.object({appliedRevision: v.number(), pid: v.number()})

async function fetchHealth(
  url: string,
  timeoutMs: number,
): Promise<v.InferOutput<typeof HealthBodySchema> | undefined> {
  try {
    const res = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
    const parsed = v.safeParse(HealthBodySchema, await res.json())
    return parsed.success ? parsed.output : undefined
  } catch {
    return undefined
  }
}

export async function flagStatus(input: SettingsInput, timeoutMs = 1000): Promise<FlagStatus> {
  const {settings, state} = loadSettings(input)
  const tunables = SETTINGS.filter((s) => s.overridable)
  const values = tunables.map((spec): FlagStatusRow => {
    const resolved = settings.values.find((v) => v.key === spec.key)
    return {
      key: spec.key,
      value: resolved?.value,
      source: resolved?.source ?? 'default',
      envValue: resolved?.envValue,
      defaultValue: spec.default,
      baseline: spec.baseline,
      description: spec.description,
    }
  })
  const report = readServiceReport(settings.stateDir)
  let service: ServiceApplied = {via: 'none', pid: null, appliedRevision: null, applied: null, url: null}
  const healthUrl = report?.metricsUrl
    ? report.metricsUrl.replace(/\/metrics$/, '/healthz')
    : `http://127.0.0.1:${settings.metrics.port}/healthz`
  const health = await fetchHealth(healthUrl, timeoutMs)
  if (health) {
    service = {
      via: 'healthz',
      pid: health.pid,
      appliedRevision: health.appliedRevision,
      applied: health.appliedRevision >= state.revision,
      url: healthUrl,
    }
  } else if (report && serviceAlive(report)) {
    service = {
      via: 'heartbeat',
      pid: report.pid,
      appliedRevision: report.appliedRevision,
      applied: report.appliedRevision >= state.revision,
      url: null,
    }
  }
  return {
    stateDir: settings.stateDir,
    revision: state.revision,
    updatedAt: state.updatedAt,
    values,
    rollback: state.rollback,
    service,
  }
}
