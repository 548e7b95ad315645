import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {FEATURES, parseFeature, rollbackGradual} from '../../core/index.js'
import {changeFlags, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class RollbackGradual extends BaseCommand<typeof RollbackGradual> {
  static override summary = 'Disable one optimization, by default the next in the runbook order'
  static override description = `Without FEATURE, disables the next feature that is still on in the runbook's order: \
parallel, neo4j-batch, batching, parse-cache. With FEATURE, disables that one. Prints what the step does and what to \
watch before taking the next one. Audited like every flag change; "lineage rollback restore" undoes the whole rollback.`

  static override examples = [
    {
      description: 'Take the next step of the gradual rollback',
      command: '<%= config.bin %> <%= command.id %> --reason "p95 latency up"',
    },
    {description: 'Disable Neo4j batching only', command: '<%= config.bin %> <%= command.id %> neo4j-batch'},
  ]

  static override args = {
    feature: Args.string({description: `feature to disable (${FEATURES.join(', ')})`}),
  }

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    const feature = this.args.feature === undefined ? undefined : parseFeature(this.args.feature)
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => rollbackGradual(ctx, feature),
      (l) => {
        this.log(l)
      },
    )
  }
}
