import {BaseCommand, targetFlags} from '../../base-command.js'
import {flagStatus, type FlagStatus} from '../../core/index.js'
import {makeTable} from '../../ui/table.js'

export default class FlagsStatus extends BaseCommand<typeof FlagsStatus> {
  static override summary = 'Show every feature flag and tuning value, where it comes from, and what the service runs'
  static override description = `For each FEATURE_* flag and tuning value: the value in effect, its source (override, \
flag, env, config or default), the environment's own value, and the baseline. Also the active rollback (who, when, \
why) and whether a running service has applied the current flag state, asked over its /healthz endpoint.`

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  static override flags = {...targetFlags}

  public async run(): Promise<FlagStatus> {
    const status = await flagStatus(this.target(this.flags).input)
    const table = makeTable(['setting', 'value', 'source', 'env', 'baseline'])
    for (const r of status.values) {
      table.push([r.key, String(r.value), r.source, r.envValue ?? '-', String(r.baseline ?? '-')])
    }
    this.log(table.toString())
    const rb = status.rollback
    this.log(
      rb
        ? `Rollback active: ${rb.kind} since ${rb.at} by ${rb.by}${rb.reason ? ` (${rb.reason})` : ''}. Undo: lineage rollback restore`
        : 'No rollback active.',
    )
    const s = status.service
    if (s.applied === null) this.log(`Service: no service reachable (state revision ${status.revision}).`)
    else {
      const state = s.applied ? 'has applied' : `has NOT yet applied (it runs revision ${String(s.appliedRevision)})`
      this.log(`Service: pid ${String(s.pid)} ${state} flag state revision ${status.revision} (via ${s.via}).`)
    }
    this.log(`State folder: ${status.stateDir}`)
    return status
  }
}
