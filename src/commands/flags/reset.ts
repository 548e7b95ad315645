import {BaseCommand} from '../../base-command.js'
import {resetFlags} from '../../core/index.js'
import {changeFlags, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class FlagsReset extends BaseCommand<typeof FlagsReset> {
  static override summary = 'Drop every operator override: the environment and defaults apply again'
  static override description = `Removes all overrides written by "rollback" and "flags" commands, ends any active \
rollback, and records it in the audit log (which keeps the full history).`

  static override examples = ['<%= config.bin %> <%= command.id %> --reason "back to the deployed configuration"']

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => resetFlags(ctx),
      (l) => {
        this.log(l)
      },
    )
  }
}
