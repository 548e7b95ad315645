import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {parseFeature, setFeature} from '../../core/rollback.js'
import {FEATURES} from '../../core/settings.js'
import {changeFlags, finishFlagChange, type FlagChangeOutput} from '../../ui/flag-change.js'

export default class FlagsEnable extends BaseCommand<typeof FlagsEnable> {
  static override summary = 'Enable one feature through an operator override'
  static override description = `Sets the feature's FEATURE_* value to true as an operator override, which wins over \
the environment and defaults, records it in the audit log, and a running "lineage watch" applies it within about a \
second. Re-enable in the order parse-cache, batching, neo4j-batch, parallel; the command says so when you skip ahead.`

  static override examples = ['<%= config.bin %> <%= command.id %> parse-cache --reason "staging clean for 24 h"']

  static override args = {
    feature: Args.string({description: `feature to enable (${FEATURES.join(', ')})`, required: true}),
  }

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    const input = {configFile: this.flags.config}
    const feature = parseFeature(this.args.feature)
    const change = setFeature(
      {settings: input, reason: this.flags.reason, dryRun: this.flags['dry-run']},
      feature,
      true,
    )
    return finishFlagChange(change, input, this.flags.restart, (l) => {
      this.log(l)
    })
  }
}
