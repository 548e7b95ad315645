/**
 * After a flag change is saved: make it take effect and say so. A local `watch` applies the state file by
 * itself within about a second; this waits briefly to confirm it. With `--restart` the values are also pushed
 * to systemd, docker compose or Kubernetes and the service restarted. Throws E_USAGE for `--restart` without
 * a service manager, and E_NO_SERVICE (exit 69) when a saved change reached no running service and the
 * operator did not say `--offline` (apply at next start): a rollback that silently does nothing is the worst
 * outcome at 3 a.m.
 */
import {LineageError} from '../errors.js'
import type {FlagChangeResult} from './rollback.js'
import {type RestartResult, restartService} from './service-manager.js'
import {type ApplyStatus, waitForApplied} from './service-state.js'
import {loadSettings, type SettingsInput} from './settings.js'

export interface FlagApplyOptions {
  restart: boolean
  /** How long to wait for a local service to confirm (ms). */
  waitMs?: number
}

export interface FlagApplyResult {
  local: ApplyStatus
  restart: RestartResult | null
}

export async function applyFlagChange(
  change: FlagChangeResult,
  input: SettingsInput,
  options: FlagApplyOptions,
): Promise<FlagApplyResult> {
  if (change.dryRun) return {local: {service: 'none', waitedMs: 0}, restart: null}
  const {settings} = loadSettings(input)
  let restart: RestartResult | null = null
  if (options.restart) {
    checkRestart(input)
    restart = await restartService(settings)
  }
  const local = await waitForApplied(change.stateDir, change.revision, options.waitMs ?? 3000)
  return {local, restart}
}

/** `--restart` needs a service manager: say so before anything is saved (a usage error, exit 64). */
export function checkRestart(input: SettingsInput): void {
  const {settings} = loadSettings(input)
  if (settings.serviceManager.kind !== 'none') return
  throw new LineageError(
    'E_USAGE',
    '--restart needs a service manager, and LINEAGE_SERVICE_MANAGER is not set; nothing was changed',
    'Set LINEAGE_SERVICE_MANAGER=systemd, compose or kubernetes (environment or --config file) and run again, or drop --restart: a running "lineage watch" applies the change by itself.',
  )
}

/** A saved change that no running service took (and no restart applied) is E_NO_SERVICE, unless `offline`. */
export function assertReached(change: FlagChangeResult, apply: FlagApplyResult, offline: boolean): void {
  if (!change.written || apply.local.service !== 'none' || apply.restart || offline) return
  throw new LineageError(
    'E_NO_SERVICE',
    `revision ${change.revision} is saved in ${change.stateDir}, but no running service uses that state folder: nothing changed yet`,
  )
}
