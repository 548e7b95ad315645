import {BaseCommand} from '../../base-command.js'
import {rollbackEmergency} from '../../core/index.js'
import {changeFlags, type FlagChangeOutput, runFlagChange} from '../../ui/flag-change.js'

export default class RollbackEmergency extends BaseCommand<typeof RollbackEmergency> {
  static override summary = 'Switch every optimization off at once: back to the baseline'
  static override description = `Sets FEATURE_PARSE_CACHE, FEATURE_BATCHING, FEATURE_NEO4J_BATCH, FEATURE_PARALLEL and \
FEATURE_METRICS to false as operator overrides, records who, when, why and the values before in the audit log, and \
a running "lineage watch" applies it within about a second. It never asks for confirmation; running it again changes \
nothing. "lineage rollback restore" undoes it.`

  static override examples = [
    {
      description: 'Roll everything back, saying why',
      command: '<%= config.bin %> <%= command.id %> --reason "OOM on ingest-2"',
    },
    {
      description: 'Also restart the systemd unit with the baseline values',
      command: 'LINEAGE_SERVICE_MANAGER=systemd <%= config.bin %> <%= command.id %> --restart',
    },
    {description: 'See what would change', command: '<%= config.bin %> <%= command.id %> --dry-run --json'},
  ]

  static override flags = {...changeFlags}

  public async run(): Promise<FlagChangeOutput> {
    return runFlagChange(
      this.target(this.flags),
      this.flags,
      (ctx) => rollbackEmergency(ctx),
      (l) => {
        this.log(l)
      },
    )
  }
}
