/**
 * Applying flag values where the service runs under a service manager (`rollback --restart`), then
 * waiting until it is healthy again. Every call goes through execa with an argument array (no shell), so
 * unit, service and deployment names are never interpreted.
 *
 * - systemd: a drop-in with `Environment=` lines, `systemctl daemon-reload`, `systemctl restart UNIT`, then
 *   `systemctl is-active UNIT` until active.
 * - docker compose: the env file the service reads (env_file), `docker compose up -d --force-recreate
 *   --no-deps SERVICE`, then `docker compose ps --format json SERVICE` until running (and healthy, if it
 *   has a health check).
 * - Kubernetes: `kubectl set env deployment/NAME K=V...`, then `kubectl rollout status` with a timeout.
 *
 * Before writing anything the unit, compose service or deployment must exist (`systemctl show -p LoadState`,
 * `docker compose config --services`, `kubectl get`); a drop-in or env file written is put back as it was
 * (or removed) when a later step fails, so a failed --restart leaves the system as it found it.
 *
 * Throws LineageError E_SERVICE_MANAGER when a command fails and E_SERVICE_UNHEALTHY when the service does
 * not come back in time.
 */
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {errorMessage, LineageError} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'
import {FEATURE_ENV, FEATURES, type ServiceManagerSettings, type Settings} from './settings.js'

export interface ManagerCall {
  command: string
  args: string[]
}

export interface RestartResult {
  manager: ServiceManagerSettings['kind']
  calls: ManagerCall[]
  /** Files written (drop-in, env file). */
  wrote: string[]
  healthy: boolean
  seconds: number
}

export interface RestartOptions {
  pollMs?: number
}

/** The environment lines the managed service must get: every feature and tuning value in effect. */
export function flagEnvironment(settings: Settings): Record<string, string> {
  const env: Record<string, string> = {}
  for (const f of FEATURES) env[FEATURE_ENV[f]] = String(settings.features[f])
  env.INGEST_WORKERS = String(settings.workers)
  env.BATCH_SIZE_THRESHOLD = String(settings.batchSize)
  env.DEBOUNCE_WINDOW_SECONDS = String(settings.debounceMs / 1000)
  return env
}

async function exec(call: ManagerCall, calls: ManagerCall[], timeoutMs: number): Promise<string> {
  const {execa} = await import('execa')
  calls.push(call)
  try {
    const result = await execa(call.command, call.args, {timeout: timeoutMs, stdin: 'ignore'})
    return result.stdout
  } catch (error) {
    const e = error as {shortMessage?: string; stderr?: string; code?: string}
    const detail =
      e.code === 'ENOENT'
        ? `${call.command} is not installed or not on PATH`
        : (e.stderr?.trim() ?? e.shortMessage ?? errorMessage(error))
    throw new LineageError(
      'E_SERVICE_MANAGER',
      `${[call.command, ...call.args].join(' ')} failed: ${detail}`,
      'The flag state is saved; apply it by hand or fix the service manager settings (LINEAGE_SERVICE_MANAGER and its names) and run again with --restart.',
    )
  }
}

async function waitFor(what: string, timeoutMs: number, pollMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError = ''
  for (;;) {
    try {
      if (await check()) return
    } catch (error) {
      lastError = errorMessage(error)
    }
    if (Date.now() > deadline) {
      throw new LineageError(
        'E_SERVICE_UNHEALTHY',
        `${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s${lastError ? ` (${lastError})` : ''}`,
        'Check the service logs now; "lineage verify" shows what is wrong. The flag state is saved.',
      )
    }
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

function systemdDropIn(env: Record<string, string>): string {
  const lines = Object.entries(env).map(([k, v]) => `Environment="${k}=${v}"`)
  return `# Written by "lineage rollback/flags --restart". Remove it to return to the unit's own values.\n[Service]\n${lines.join('\n')}\n`
}

/** Apply `settings` through the configured manager and wait for health. */
export async function restartService(settings: Settings, options: RestartOptions = {}): Promise<RestartResult> {
  const m = settings.serviceManager
  const env = flagEnvironment(settings)
  const calls: ManagerCall[] = []
  const wrote: string[] = []
  const started = performance.now()
  const timeout = m.restartTimeoutMs
  const poll = options.pollMs ?? 1000
  if (m.kind === 'systemd') {
    const load = await exec(
      {command: 'systemctl', args: ['show', '-p', 'LoadState', '--value', m.systemdUnit]},
      calls,
      timeout,
    )
    if (load.trim() !== 'loaded') throw missing(`systemd unit ${m.systemdUnit}`, 'LINEAGE_SYSTEMD_UNIT')
    const file = join(m.systemdDropInDir, `${m.systemdUnit}.d`, 'lineage-flags.conf')
    await withRestore(file, systemdDropIn(env), wrote, async () => {
      await exec({command: 'systemctl', args: ['daemon-reload']}, calls, timeout)
      await exec({command: 'systemctl', args: ['restart', m.systemdUnit]}, calls, timeout)
    })
    await waitFor(`systemd unit ${m.systemdUnit}`, timeout, poll, async () => {
      const out = await exec({command: 'systemctl', args: ['is-active', m.systemdUnit]}, calls, timeout).catch(
        () => 'inactive',
      )
      return out.trim() === 'active'
    })
  } else if (m.kind === 'compose') {
    const envFile = m.composeEnvFile
    const base = ['compose', ...(m.composeFile ? ['-f', m.composeFile] : [])]
    const services = await exec({command: 'docker', args: [...base, 'config', '--services']}, calls, timeout)
    if (!services.split('\n').some((s) => s.trim() === m.composeService)) {
      throw missing(`compose service ${m.composeService}`, 'LINEAGE_COMPOSE_SERVICE')
    }
    const text = `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`
    await withRestore(envFile, text, wrote, async () => {
      await exec(
        {command: 'docker', args: [...base, 'up', '-d', '--force-recreate', '--no-deps', m.composeService]},
        calls,
        timeout,
      )
    })
    await waitFor(`compose service ${m.composeService}`, timeout, poll, async () => {
      const out = await exec(
        {command: 'docker', args: [...base, 'ps', '--format', 'json', m.composeService]},
        calls,
        timeout,
      )
      return composeHealthy(out)
    })
  } else if (m.kind === 'kubernetes') {
    const ns = m.k8sNamespace ? ['-n', m.k8sNamespace] : []
    const target = `deployment/${m.k8sDeployment}`
    // Fails (E_SERVICE_MANAGER, with kubectl's "not found") before anything is changed.
    await exec({command: 'kubectl', args: ['get', target, '-o', 'name', ...ns]}, calls, timeout)
    await exec(
      {command: 'kubectl', args: ['set', 'env', target, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...ns]},
      calls,
      timeout,
    )
    await exec(
      {command: 'kubectl', args: ['rollout', 'status', target, `--timeout=${Math.round(timeout / 1000)}s`, ...ns]},
      calls,
      timeout + 5000,
    )
  }
  return {manager: m.kind, calls, wrote, healthy: true, seconds: (performance.now() - started) / 1000}
}

function missing(what: string, setting: string): LineageError {
  return new LineageError(
    'E_SERVICE_MANAGER',
    `${what} does not exist; nothing was written or restarted`,
    `Check ${setting} (and LINEAGE_SERVICE_MANAGER); the flag state is saved and a running "lineage watch" applies it by itself.`,
  )
}

/** Write `file`, run `steps`; if they fail, put the file back as it was (or remove it) and rethrow. */
async function withRestore(file: string, text: string, wrote: string[], steps: () => Promise<void>): Promise<void> {
  let before: string | undefined
  try {
    before = readFileSync(file, 'utf8')
  } catch {
    before = undefined
  }
  writeFileAtomic(file, text)
  wrote.push(file)
  try {
    await steps()
  } catch (error) {
    if (before === undefined) rmSync(file, {force: true})
    else writeFileAtomic(file, before)
    wrote.pop()
    throw error
  }
}

/** `docker compose ps --format json` prints one JSON object per line (or an array, in older versions). */
export function composeHealthy(output: string): boolean {
  const text = output.trim()
  if (text === '') return false
  let rows: unknown[]
  try {
    rows = text.startsWith('[')
      ? (JSON.parse(text) as unknown[])
      : text.split('\n').map((l) => JSON.parse(l) as unknown)
  } catch {
    return false
  }
  return (
    rows.length > 0 &&
    rows.every((row) => {
      const r = row as {State?: string; Health?: string}
      return r.State === 'running' && (r.Health === undefined || r.Health === '' || r.Health === 'healthy')
    })
  )
}
