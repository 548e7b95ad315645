/**
 * FlagWatcher: the running service's view of its settings. It holds the settings in effect (the environment,
 * config file and command-line values with the operator overrides of the state folder applied) and polls the
 * override file, so a `lineage rollback` or `lineage flags` change reaches the service within about a second,
 * without a restart.
 *
 * The file is recognised as changed by its identity and version (inode, size, mtime), taken before it is read,
 * so a change written while the service starts is applied, never missed. A state file that cannot be read or
 * resolved keeps the current settings and is logged; `poll` never throws. `load` throws what loadSettings
 * throws (E_CONFIG, E_STATE).
 */
import {statSync} from 'node:fs'

import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import {type FlagState, loadFlagState, overrideValues, stateFile} from '../ops/flag-state.js'
import {loadSettings, resolveSettings, type Settings, type SettingsInput} from '../ops/settings.js'

/** Identity and version of a file: inode, size and mtime ('none' when it does not exist). */
function fileStamp(file: string): string {
  try {
    const st = statSync(file)
    return `${st.ino}:${st.size}:${st.mtimeMs}`
  } catch {
    return 'none'
  }
}

export class FlagWatcher {
  private timer: NodeJS.Timeout | undefined

  private constructor(
    private readonly input: SettingsInput,
    public settings: Settings,
    public state: FlagState,
    private stamp: string,
  ) {}

  /** Resolve the settings and the override state for the first time. */
  static load(input: SettingsInput): FlagWatcher {
    const stamp = fileStamp(stateFile(resolveSettings(input).stateDir))
    const {settings, state} = loadSettings(input)
    return new FlagWatcher(input, settings, state, stamp)
  }

  /** Poll every `intervalMs`; `onChange` gets the new settings and state, then they are in effect. */
  start(intervalMs: number, onChange: (next: Settings, state: FlagState, before: Settings) => void, logger: Logger) {
    this.timer = setInterval(() => {
      this.poll(onChange, logger)
    }, intervalMs)
    this.timer.unref()
  }

  poll(onChange: (next: Settings, state: FlagState, before: Settings) => void, logger: Logger): void {
    const stamp = fileStamp(stateFile(this.settings.stateDir))
    if (stamp === this.stamp) return
    this.stamp = stamp
    try {
      const state = loadFlagState(this.settings.stateDir)
      const next = resolveSettings({...this.input, overrides: overrideValues(state)})
      const before = this.settings
      this.settings = next
      this.state = state
      onChange(next, state, before)
    } catch (error) {
      logger.error(`flag state not applied, keeping the current flags: ${errorMessage(error)}`)
    }
  }

  stop(): void {
    clearInterval(this.timer)
  }
}
