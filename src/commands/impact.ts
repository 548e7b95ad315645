import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ExitCode, failsOn, impact, resolveSettings, type ImpactResult} from '../core/index.js'
import {formatImpact} from '../ui/impact.js'

export default class Impact extends BaseCommand<typeof Impact> {
  static override summary = 'Show what a change to SQL files does to the lineage, and what lies downstream'
  static override description = `The changed files are the FILEs given, or those that git diff --name-only RANGE \
lists in the watched folder (--raw, LINEAGE_RAW_DIR) with an extension the service ingests \
(LINEAGE_EXTENSIONS). Each is parsed as the service would parse it now (read from the working tree, with \
LINEAGE_DIALECT and the session defaults), and its table and column edges are compared with those the graph \
holds for that file: Neo4j when NEO4J_URI is set, else the output folder of the embedded default (--out, \
LINEAGE_OUT_DIR). A file that no longer exists counts as all its edges removed, a file the graph does not know \
as all its edges added. Edges are compared by source, target and file, not line, so an edit that only moves \
statements (comments, whitespace) is no lineage change. Every table and column downstream of a changed edge is \
listed, to any depth. Exits 0 when the lineage does not change, and also when it does unless --fail-on says \
otherwise: --fail-on removed exits 1 when any edge is removed, --fail-on changed when any edge is added or \
removed. A failure of the tool itself never exits 1: 64 for bad usage (an unknown range, a file outside the \
watched folder), 69 when Neo4j is unreachable, 78 for bad configuration, 70 for any other failure.`

  static override examples = [
    {
      description: 'In CI, a pull-request comment that fails the build when lineage is removed:',
      command: '<%= config.bin %> <%= command.id %> --git origin/main...HEAD --fail-on removed --format markdown',
    },
    '<%= config.bin %> <%= command.id %> data/raw/mart/daily.sql',
    '<%= config.bin %> <%= command.id %> --git HEAD~1 --json --out data/output',
  ]

  static override strict = false

  static override args = {
    file: Args.string({description: 'changed SQL file inside the watched folder (several may be given)'}),
  }

  static override flags = {
    git: Flags.string({
      description: 'take the changed files from git diff --name-only RANGE in the watched folder',
      helpValue: 'RANGE',
    }),
    'fail-on': Flags.option({
      description: 'exit 1 when any edge is removed (removed), or added or removed (changed)',
      options: ['removed', 'changed'] as const,
    })(),
    format: Flags.option({
      description: 'text; json; markdown: a summary for a pull-request comment',
      options: ['text', 'json', 'markdown'] as const,
      default: 'text' as const,
    })(),
    raw: Flags.string({description: 'the watched folder (default: LINEAGE_RAW_DIR, data/raw)'}),
    out: Flags.string({
      description: 'output folder to read when NEO4J_URI is not set (default: LINEAGE_OUT_DIR, data/output)',
    }),
  }

  /** 1 means "a change --fail-on names": a failure of the tool must not look like one. */
  protected override failureExit: number = ExitCode.SOFTWARE

  public async run(): Promise<ImpactResult> {
    const {argv} = await this.parse(Impact)
    const paths = argv.filter((a): a is string => typeof a === 'string')
    const settings = resolveSettings({configFile: this.flags.config})
    const rawDir = resolve(this.flags.raw ?? settings.rawDir)
    const graph = await this.openReadGraph(settings, this.flags.out, rawDir)
    const result = await impact(graph, {
      rawDir,
      extensions: settings.extensions,
      paths,
      ...(this.flags.git === undefined ? {} : {gitRange: this.flags.git}),
      dialect: settings.dialect,
      defaultDatabase: settings.defaultDatabase,
      defaultSchema: settings.defaultSchema,
      maxBytes: settings.maxFileBytes,
      deadlineMs: Math.round(settings.parseTimeoutMs * 0.8),
    })
    for (const f of result.files) {
      if (f.status !== 'ok' && f.status !== 'missing') {
        this.note(
          `warning: ${f.path} parsed ${f.status}: its edges are what ingestion would record (see lineage parse)`,
        )
      }
    }
    if (!this.jsonEnabled()) this.log(formatImpact(result, this.flags.format))
    if (failsOn(result, this.flags['fail-on'])) this.exitStatus = ExitCode.FAILURE
    return result
  }
}
