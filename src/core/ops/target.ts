/**
 * Which service an ops command acts on, decided the same way for every command, whatever the working directory:
 * 1. `--service NAME` (a registered name, state folder or pid), or `--state-dir` / `--config` / LINEAGE_STATE_DIR
 *    given explicitly: that one;
 * 2. else the one running service in the registry (registry.ts);
 * 3. several registered and none picked: refused (E_USAGE) with the list;
 * 4. none registered: the local state folder (data/state under the working directory).
 * The result carries the SettingsInput to resolve settings with (tolerant: an unrelated bad value never blocks a
 * rollback) and the registration of the running service, if any. Throws E_USAGE as above.
 */
import {resolve} from 'node:path'

import {LineageError} from '../errors.js'
import {listServices, type Registration} from './registry.js'
import {resolveSettings, type SettingsInput} from './settings.js'

export interface TargetRequest {
  configFile?: string | undefined
  stateDir?: string | undefined
  service?: string | undefined
  env?: NodeJS.ProcessEnv
}

export interface Target {
  /** How it was chosen. */
  how: 'explicit' | 'registry' | 'local'
  /** The service's registered name, or "local". */
  name: string
  stateDir: string
  /** The running service it names (registered and alive), or null. */
  service: Registration | null
  input: SettingsInput
}

function describe(r: Registration): string {
  return `${r.name} (pid ${r.pid}, state ${r.stateDir})`
}

function fromRegistration(r: Registration, env: NodeJS.ProcessEnv): Target {
  const input: SettingsInput = {
    env,
    tolerant: true,
    configFile: r.configFile ?? undefined,
    flags: {
      LINEAGE_STATE_DIR: r.stateDir,
      LINEAGE_CACHE_FILE: r.cacheFile,
      LINEAGE_FAILED_FILE: r.failedFile,
      LINEAGE_LOG_FILE: r.logFile,
      LINEAGE_RAW_DIR: r.rawDir,
      LINEAGE_OUT_DIR: r.outDir,
    },
  }
  return {how: 'registry', name: r.name, stateDir: r.stateDir, service: r, input}
}

export function resolveTarget(request: TargetRequest): Target {
  const env = request.env ?? process.env
  const services = listServices(env)
  if (request.service !== undefined) {
    const wanted = request.service
    const match = services.filter(
      (s) => s.name === wanted || s.stateDir === resolve(wanted) || String(s.pid) === wanted,
    )
    if (match.length === 1 && match[0]) return fromRegistration(match[0], env)
    const list = services.length > 0 ? services.map(describe).join('; ') : 'none'
    throw new LineageError(
      'E_USAGE',
      `${match.length > 1 ? 'several services match' : 'no running service matches'} --service ${wanted}; running: ${list}`,
      'Pick one by its name, state folder or pid.',
    )
  }
  const explicit = request.stateDir !== undefined || request.configFile !== undefined || !!env.LINEAGE_STATE_DIR
  if (explicit) {
    const input: SettingsInput = {
      env,
      tolerant: true,
      configFile: request.configFile,
      ...(request.stateDir === undefined ? {} : {flags: {LINEAGE_STATE_DIR: request.stateDir}}),
    }
    const stateDir = resolveSettings(input).stateDir
    const service = services.find((s) => s.stateDir === stateDir) ?? null
    return {how: 'explicit', name: service?.name ?? 'local', stateDir, service, input}
  }
  if (services.length === 1 && services[0]) return fromRegistration(services[0], env)
  if (services.length > 1) {
    throw new LineageError(
      'E_USAGE',
      `${services.length} services are running: ${services.map(describe).join('; ')}`,
      `Pick one with --service NAME (for example --service ${services[0]?.name ?? 'NAME'}), or give --state-dir.`,
    )
  }
  const input: SettingsInput = {env, tolerant: true}
  return {how: 'local', name: 'local', stateDir: resolveSettings(input).stateDir, service: null, input}
}

/** The first line every ops command prints: what it acts on. */
export function targetLine(t: Target): string {
  const who = t.service ? `service ${t.name} (pid ${t.service.pid})` : 'no running service'
  return `Target: ${who}, state folder ${t.stateDir}`
}
