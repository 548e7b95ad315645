import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand, targetFlags} from '../base-command.js'
import {
  LineageError,
  openGraphWriter,
  replaySettings,
  retryFailed,
  type RetryFailedResult,
  settingsNamespace,
} from '../core/index.js'

export default class RetryFailed extends BaseCommand<typeof RetryFailed> {
  static override summary = 'Replay the graph writes that failed, from the failed-ingestion file'
  static override description = `Replays each entry of JSONL (by default LINEAGE_FAILED_FILE, data/failed_ingestion.jsonl) into Neo4j in file \
order, each in the namespace it was written in (an entry without one, from before namespaces, in \
LINEAGE_NAMESPACE, else the watched folder's: docs/namespaces.md). Entries already in the graph (same \
content hash), superseded by a newer write of their file, or retractions of files already gone are skipped; \
replaying twice changes nothing. The file is rewritten as it goes so it keeps only what still fails, lines \
that are not valid entries (reported, never dropped) and lines a running service appends meanwhile; when \
everything went in it is removed. Killing it at any moment loses nothing. Exit 0: all went in; 1: some \
remain; 69: Neo4j unreachable (nothing changed).`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> /var/lib/lineage/failed_ingestion.jsonl --batch-size 200 --json',
  ]

  static override args = {
    jsonl: Args.string({description: 'failed-ingestion file (default: LINEAGE_FAILED_FILE)'}),
  }

  static override flags = {
    'dry-run': Flags.boolean({description: 'change nothing; say what would be replayed and skipped'}),
    'batch-size': Flags.integer({
      description: 'entries replayed per transaction (default: BATCH_SIZE_THRESHOLD)',
      min: 1,
      max: 100_000,
      env: 'LINEAGE_RETRY_BATCH_SIZE',
    }),
    ...targetFlags,
  }

  public async run(): Promise<RetryFailedResult> {
    const settings = replaySettings(this.target(this.flags).input, this.logger)
    const file = resolve(this.args.jsonl ?? settings.failedFile)
    const conn = settings.neo4j
    const namespace = settingsNamespace(settings)
    const result = await retryFailed({
      file,
      namespace,
      openWriter: async () => {
        if (!conn)
          throw new LineageError(
            'E_CONFIG',
            'NEO4J_URI is not set',
            'Set NEO4J_URI (and credentials) to replay into Neo4j.',
          )
        return openGraphWriter(conn, {logger: this.logger, namespace})
      },
      batched: settings.features['neo4j-batch'],
      batchSize: this.flags['batch-size'] ?? settings.batchSize,
      dryRun: this.flags['dry-run'],
      logger: this.logger,
    })
    this.log(summary(result))
    if (result.invalid > 0) {
      const lines = result.invalidLines.map((l) => `${l.line} (${l.reason})`).join(', ')
      const where = result.quarantined > 0 ? `moved to ${result.quarantineFile}` : `in ${file}`
      this.logToStderr(`warning: ${result.invalid} invalid line(s) ${where}: ${lines}`)
    }
    for (const error of result.errors) this.logToStderr(`warning: ${error}`)
    // Quarantined lines were not replayed: this run says so once; their files come back by re-ingest.
    if (!result.dryRun && (result.remaining > 0 || result.quarantined > 0)) this.exitStatus = 1
    return result
  }
}

function summary(r: RetryFailedResult): string {
  const s = r.skippedBy
  const skipped = `${r.skipped} (already in the graph ${s.sameContent}, superseded ${s.superseded}, file gone ${s.gone})`
  if (r.fileState === 'absent') return `Nothing to replay: ${r.file} does not exist.`
  if (r.dryRun) {
    return `Dry run: would replay ${r.replayed}, skip ${skipped}; ${r.invalid} invalid line(s). Nothing changed.`
  }
  const counts = `Replayed ${r.replayed}, skipped ${skipped}, still failing ${r.stillFailing + r.notAttempted}, invalid ${r.invalid}.`
  const moved =
    r.quarantined > 0
      ? `\n${r.quarantined} invalid line(s) moved to ${r.quarantineFile}; the service ingests their files again.`
      : ''
  if (r.remaining === 0)
    return `${counts}\n${r.file} removed: everything${moved ? ' else' : ''} is in the graph.${moved}`
  const extra = r.appended > 0 ? ` (${r.appended} appended during the replay)` : ''
  return `${counts}\n${r.file} keeps ${r.remaining} line(s)${extra}: run "lineage retry-failed" again once Neo4j is healthy.${moved}`
}
