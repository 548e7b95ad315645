/**
 * After a flag change is saved: make it take effect and say so. A local `watch` applies the state file by
 * itself within about a second; this waits briefly to confirm it. With `--restart` (or a configured service
 * manager) the values are also pushed to systemd, docker compose or Kubernetes and the service restarted.
 */
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
  if (options.restart && settings.serviceManager.kind !== 'none') {
    restart = await restartService(settings)
  }
  const local = await waitForApplied(change.stateDir, change.revision, options.waitMs ?? 3000)
  return {local, restart}
}
