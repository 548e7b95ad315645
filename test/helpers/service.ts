import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {isolatedFolders} from '../../src/bench/bench.js'
import type {IngestObserver} from '../../src/core/ingest/observer.js'
import type {ServiceHandle, ServiceOptions} from '../../src/core/ingest/service.js'
import {startService} from '../../src/core/ingest/start.js'

/** Poll until `check` holds, or fail with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** What a running service's /healthz says now. */
export async function healthOf(
  service: Pick<ServiceHandle, 'metricsPort'>,
): Promise<{status: string; problems: string[]}> {
  const res = await fetch(`http://127.0.0.1:${String(service.metricsPort)}/healthz`)
  return (await res.json()) as {status: string; problems: string[]}
}

export function writeSql(root: string, rel: string, sql: string): void {
  const file = join(root, rel)
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, sql)
}

/** The environment of one isolated service: its own folders under `dir`, metrics on a free port. */
export function serviceEnv(dir: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...isolatedFolders(dir),
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    DEBOUNCE_WINDOW_SECONDS: '0.2',
    INGEST_WORKERS: '2',
    // The service registry of this test alone: never a developer's, never another test's.
    LINEAGE_HOME: join(dir, 'home'),
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) Reflect.deleteProperty(env, k)
    else env[k] = v
  }
  mkdirSync(env.LINEAGE_RAW_DIR!, {recursive: true})
  return env
}

export const ALL_OFF = {
  FEATURE_PARSE_CACHE: 'false',
  FEATURE_BATCHING: 'false',
  FEATURE_NEO4J_BATCH: 'false',
  FEATURE_PARALLEL: 'false',
  FEATURE_METRICS: 'false',
}

export async function runService(
  env: NodeJS.ProcessEnv,
  options: Partial<Omit<ServiceOptions, 'settings'>> = {},
): Promise<ServiceHandle> {
  return startService({
    settings: {env},
    once: false,
    poll: false,
    settleMs: 50,
    reingest: false,
    logLevel: (process.env.TEST_LOG_LEVEL as ServiceOptions['logLevel'] | undefined) ?? 'error',
    ...(process.env.TEST_LOG_LEVEL ? {stream: process.stderr} : {}),
    flagPollMs: 100,
    ...options,
  })
}

/** Ingest the folder once, as `lineage watch --once` does. */
export async function ingestOnce(env: NodeJS.ProcessEnv, options: Partial<Omit<ServiceOptions, 'settings'>> = {}) {
  const service = await runService(env, {...options, once: true})
  return service.done
}

/** Counts where the service parsed files (main thread or pool workers) and the most parses at once. */
export class ParseTally {
  main = 0
  worker = 0
  peak = 0
  readonly observer: IngestObserver = {
    parseStarted: (e) => {
      if (e.thread === 'main') this.main++
      else this.worker++
      this.peak = Math.max(this.peak, e.running)
    },
  }
}
