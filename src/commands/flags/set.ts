import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {setTunable, TUNABLES} from '../../core/index.js'
import {changeFlags, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class FlagsSet extends BaseCommand<typeof FlagsSet> {
  static override summary = 'Set a tuning value (workers, batch size, debounce window) on the running service'
  static override description = `Sets INGEST_WORKERS, BATCH_SIZE_THRESHOLD or DEBOUNCE_WINDOW_SECONDS as an operator \
override, validated against the setting's bounds and recorded in the audit log. A running "lineage watch" applies \
it within about a second, without a restart: the worker pool grows or shrinks (files in flight finish first) and \
the batcher takes the new size and window at its next batch. "lineage flags unset KEY" removes it; \
"lineage rollback restore" also puts back a value set during a rollback.`

  static override examples = [
    {
      description: 'High memory: fewer workers and smaller batches (the runbook, scenario 1, step 3)',
      command: '<%= config.bin %> <%= command.id %> INGEST_WORKERS 2 --reason "memory at 90%"',
    },
    {description: 'Smaller batches', command: '<%= config.bin %> <%= command.id %> BATCH_SIZE_THRESHOLD 10'},
  ]

  static override args = {
    key: Args.string({description: `the setting (${TUNABLES.map((t) => t.key).join(', ')})`, required: true}),
    value: Args.string({description: 'its new value', required: true}),
  }

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    const {key, value} = this.args
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => setTunable(ctx, key, value),
      (l) => {
        this.log(l)
      },
    )
  }
}
