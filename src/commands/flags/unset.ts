import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {TUNABLES, unsetTunable} from '../../core/index.js'
import {changeFlags, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class FlagsUnset extends BaseCommand<typeof FlagsUnset> {
  static override summary = 'Remove a tuning override: the environment or default applies again'
  static override description = `Removes the operator override of INGEST_WORKERS, BATCH_SIZE_THRESHOLD or \
DEBOUNCE_WINDOW_SECONDS set by "lineage flags set", records it in the audit log, and a running "lineage watch" \
applies the value from its environment, config file or default within about a second.`

  static override examples = ['<%= config.bin %> <%= command.id %> INGEST_WORKERS --reason "memory back to normal"']

  static override args = {
    key: Args.string({description: `the setting (${TUNABLES.map((t) => t.key).join(', ')})`, required: true}),
  }

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    const {key} = this.args
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => unsetTunable(ctx, key),
      (l) => {
        this.log(l)
      },
    )
  }
}
