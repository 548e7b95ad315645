import {BaseCommand} from '../../base-command.js'
import {parseFeature, setFeature} from '../../core/index.js'
import {changeFlags, featureArgs, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class FlagsDisable extends BaseCommand<typeof FlagsDisable> {
  static override summary = 'Disable one feature through an operator override'
  static override description = `Sets the feature's FEATURE_* value to false as an operator override, which wins over \
the environment and defaults, records it in the audit log, and a running "lineage watch" applies it within about a \
second.`

  static override examples = ['<%= config.bin %> <%= command.id %> parallel --reason "worker OOM"']

  static override args = featureArgs('disable')

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    const feature = parseFeature(this.args.feature)
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => setFeature(ctx, feature, false),
      (l) => {
        this.log(l)
      },
    )
  }
}
