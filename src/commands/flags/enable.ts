import {BaseCommand} from '../../base-command.js'
import {parseFeature, setFeature} from '../../core/index.js'
import {changeFlags, featureArgs, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class FlagsEnable extends BaseCommand<typeof FlagsEnable> {
  static override summary = 'Enable one feature through an operator override'
  static override description = `Sets the feature's FEATURE_* value to true as an operator override, which wins over \
the environment and defaults, records it in the audit log, and a running "lineage watch" applies it within about a \
second. Re-enable in the order parse-cache, batching, neo4j-batch, parallel; the command says so when you skip ahead.`

  static override examples = ['<%= config.bin %> <%= command.id %> parse-cache --reason "staging clean for 24 h"']

  static override args = featureArgs('enable')

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    const feature = parseFeature(this.args.feature)
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => setFeature(ctx, feature, true),
      (l) => {
        this.log(l)
      },
    )
  }
}
