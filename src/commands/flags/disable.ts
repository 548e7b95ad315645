import {BaseCommand} from '../../base-command.js'
import {changeFlags, featureArgs, type FlagChangeOutput, switchFeature} from '../../ui/flag-change.js'

export default class FlagsDisable extends BaseCommand<typeof FlagsDisable> {
  static override summary = 'Disable one feature through an operator override'
  static override description = `Sets the feature's FEATURE_* value to false as an operator override, which wins over \
the environment and defaults, records it in the audit log, and a running "lineage watch" applies it within about a \
second.`

  static override examples = ['<%= config.bin %> <%= command.id %> parallel --reason "worker OOM"']

  static override args = featureArgs('disable')

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    const {config, reason, restart} = this.flags
    return switchFeature(
      {feature: this.args.feature, value: false, config, reason, dryRun: this.flags['dry-run'], restart},
      (l) => {
        this.log(l)
      },
    )
  }
}
