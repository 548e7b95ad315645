/**
 * The performance data of a `verify` run in the monitoring-plugin format Nagios and Icinga graph, the part of
 * the first output line after `|`: `'label'=value[UOM];warn;crit;min;max`, space-separated.
 *
 * Per check its time (`<check>_time`, ms); the canary's end-to-end seconds when it got through; the failed-
 * ingestion backlog (warn above 0); and, from the running service's /healthz, the queue size and the age of
 * its last batch. A figure that could not be had is left out rather than reported as 0.
 */
import type {Ctx} from './verify-checks.js'

interface Check {
  name: string
  status: string
  ms: number
}

/** A figure as Nagios reads it; labels are plain words, so they need no quoting. */
function perf(label: string, value: number, uom = '', thresholds = ''): string {
  return `${label}=${String(Math.round(value * 1000) / 1000)}${uom}${thresholds}`
}

/** Queue size and seconds since the last batch, from the service's /healthz (undefined: not known). */
async function serviceFigures(ctx: Ctx): Promise<{queue?: number; lastIngestAge?: number}> {
  if (!ctx.serviceUp || !ctx.baseUrl) return {}
  try {
    const res = await fetch(`${ctx.baseUrl}/healthz`, {signal: AbortSignal.timeout(1000)})
    const health = (await res.json()) as {queueSize?: unknown; lastBatchAt?: unknown}
    const last = typeof health.lastBatchAt === 'string' ? Date.parse(health.lastBatchAt) : Number.NaN
    return {
      ...(typeof health.queueSize === 'number' ? {queue: health.queueSize} : {}),
      ...(Number.isFinite(last) ? {lastIngestAge: Math.max(0, (Date.now() - last) / 1000)} : {}),
    }
  } catch {
    return {}
  }
}

export async function perfdata(ctx: Ctx | undefined, checks: readonly Check[]): Promise<string> {
  const out = checks.map((c) => perf(`${c.name}_time`, c.ms, 'ms', ';;;0'))
  const canary = checks.find((c) => c.name === 'canary')
  if (canary?.status === 'OK') out.push(perf('canary', canary.ms / 1000, 's', ';;;0'))
  if (!ctx) return out.join(' ')
  if (ctx.perf.backlog !== undefined) out.push(perf('backlog', ctx.perf.backlog, '', ';0;;0'))
  const service = await serviceFigures(ctx)
  if (service.queue !== undefined) out.push(perf('queue_size', service.queue, '', ';;;0'))
  if (service.lastIngestAge !== undefined) out.push(perf('last_ingest_age', service.lastIngestAge, 's', ';;;0'))
  return out.join(' ')
}
