import {BaseCommand} from '../../base-command.js'
import {rollbackRestore} from '../../core/index.js'
import {changeFlags, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class RollbackRestore extends BaseCommand<typeof RollbackRestore> {
  static override summary = 'Undo the active rollback: put back the flags as they were before it'
  static override description = `Restores the operator overrides that were in place before the active rollback \
(emergency or gradual) began, and records it in the audit log. Without an active rollback it changes nothing. To \
re-enable one feature at a time instead, use "lineage flags enable FEATURE" in the order parse-cache, batching, \
neo4j-batch, parallel.`

  static override examples = ['<%= config.bin %> <%= command.id %> --reason "fix deployed"']

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => rollbackRestore(ctx),
      (l) => {
        this.log(l)
      },
    )
  }
}
