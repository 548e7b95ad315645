import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {
  type ExportDestination,
  exportOpenLineage,
  type ExportResult,
  ExitCode,
  isHttpUrl,
  LineageError,
  lineageNamespace,
  resolveSettings,
} from '../core/index.js'

export default class Export extends BaseCommand<typeof Export> {
  static override summary = 'Export the lineage of the output folder as OpenLineage events'
  static override description = `Reads every lineage record of the output folder (OUT/**/*.lineage.json: --out, \
LINEAGE_OUT_DIR) and turns each ingested file into one OpenLineage RunEvent (spec 2-0-2, eventType COMPLETE): the \
job is the file (namespace: --namespace, else LINEAGE_NAMESPACE, else file://<host><watched folder>; name: its \
path in the watched folder), its inputs and outputs the tables it reads and writes, with the columnLineage facet \
on each output and the sql facet holding the file's SQL (read from the watched folder, --raw or LINEAGE_RAW_DIR, \
while it is still the content that was ingested). runId is derived from the namespace, path, content and ingestion \
time, so exporting twice gives the same events. Files whose parse failed as a whole give no event. \
Without --to the events go to stdout, one JSON object per line (NDJSON). --to FILE writes them there atomically. \
--to http(s)://... POSTs them one per request, as OpenLineage's HTTP transport does (for Marquez give its API \
address; a URL without a path gets /api/v1/lineage), each retried with backoff; an unreachable endpoint stops the \
export once one event has used up its retries. Credentials in the URL are sent as basic auth and never printed. Exits 1 when some event could not be delivered, with the count.`

  static override examples = [
    {description: 'Print the events (NDJSON)', command: '<%= config.bin %> <%= command.id %> --format openlineage'},
    {
      description: 'Send them to Marquez',
      command:
        '<%= config.bin %> <%= command.id %> --format openlineage --namespace payments --to http://localhost:5000',
    },
    {
      description: 'Write them to a file',
      command: '<%= config.bin %> <%= command.id %> --out data/output --to lineage-events.ndjson --json',
    },
  ]

  static override flags = {
    format: Flags.option({
      description: 'event format',
      options: ['openlineage'] as const,
      default: 'openlineage' as const,
    })(),
    namespace: Flags.string({
      description: 'namespace of the jobs and datasets (LINEAGE_NAMESPACE; default: file://<host><watched folder>)',
    }),
    to: Flags.string({
      description: 'FILE (NDJSON, written atomically) or an http(s):// OpenLineage endpoint; default: stdout',
    }),
    out: Flags.string({description: 'output folder to read (default: LINEAGE_OUT_DIR, data/output)'}),
    raw: Flags.string({
      description: 'the watched folder: the SQL text and the default namespace (default: LINEAGE_RAW_DIR, data/raw)',
    }),
  }

  public async run(): Promise<ExportResult> {
    const {flags} = this
    const settings = resolveSettings({configFile: flags.config})
    const to = flags.to === '-' ? undefined : flags.to
    if (to === undefined && this.jsonEnabled()) {
      throw new LineageError('E_USAGE', '--json needs --to: without it stdout carries the events')
    }
    const rawDir = resolve(flags.raw ?? settings.rawDir)
    const namespace = lineageNamespace({explicit: flags.namespace, setting: settings.openLineage.namespace, rawDir})
    const destination: ExportDestination =
      to === undefined
        ? {kind: 'lines', write: (line) => process.stdout.write(line)}
        : isHttpUrl(to)
          ? {kind: 'http', url: to}
          : {kind: 'file', file: resolve(to)}
    const result = await exportOpenLineage({
      outDir: resolve(flags.out ?? settings.outDir),
      rawDir,
      namespace,
      to: destination,
    })
    if (result.invalid.length > 0) {
      this.note(`warning: ${result.invalid.length} file(s) in the output folder are not lineage records, skipped`)
    }
    const summary =
      `${result.delivered} of ${result.events} event(s) to ${result.destination} (namespace ${namespace}) ` +
      `in ${result.seconds.toFixed(1)} s` +
      (result.failedFiles > 0 ? `; ${result.failedFiles} failed file(s) without lineage skipped` : '') +
      (result.withoutSql > 0 ? `; ${result.withoutSql} without their SQL (changed or gone since ingested)` : '')
    if (to === undefined) this.note(summary)
    else if (!this.jsonEnabled()) this.log(summary)
    if (result.undelivered > 0) {
      this.note(`lineage: ${result.undelivered} event(s) not delivered: ${result.firstError ?? 'unknown'}`)
      this.exitStatus = ExitCode.FAILURE
    }
    return result
  }
}
