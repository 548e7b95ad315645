import {Flags} from '@oclif/core'

import {BaseCommand, targetFlags} from '../../base-command.js'
import {readAudit, type AuditEntry} from '../../core/index.js'

export interface FlagsHistoryResult {
  stateDir: string
  entries: AuditEntry[]
  damagedLines: number
}

export default class FlagsHistory extends BaseCommand<typeof FlagsHistory> {
  static override summary = 'Show the audit log of flag changes and rollbacks'
  static override description = `Every change made by "rollback" and "flags" commands is appended to STATE_DIR/audit.jsonl \
with who made it, when, why, and the values before and after. This prints it, newest last.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --limit 5 --json',
  ]

  static override flags = {
    limit: Flags.integer({description: 'show only the newest N entries', min: 1}),
    ...targetFlags,
  }

  public async run(): Promise<FlagsHistoryResult> {
    const settings = this.target(this.flags)
    const {entries, damaged} = readAudit(settings.stateDir)
    const shown = this.flags.limit === undefined ? entries : entries.slice(-this.flags.limit)
    if (shown.length === 0) this.log(`No flag changes recorded in ${settings.stateDir}.`)
    for (const e of shown) {
      const changes = e.changes.map((c) => `${c.key}: ${String(c.before)} -> ${String(c.after)}`).join(', ')
      const reason = e.reason ? ` (${e.reason})` : ''
      this.log(`${e.time}  ${e.actor}@${e.host}  ${e.action}${reason}  ${changes || 'no value changed'}`)
    }
    if (damaged > 0) this.logToStderr(`warning: ${damaged} line(s) of the audit log could not be read`)
    return {stateDir: settings.stateDir, entries: shown, damagedLines: damaged}
  }
}
