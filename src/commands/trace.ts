import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {resolveSettings, trace, type TraceDirection, type TraceResult} from '../core/index.js'
import {formatTrace} from '../ui/trace.js'

export default class Trace extends BaseCommand<typeof Trace> {
  static override summary = 'Show where a table or column comes from and what it feeds'
  static override description = `NAME is a table (mart.daily) or a column (mart.daily.total), schema-qualified as the \
SQL writes it. Upstream lists what NAME derives from, downstream what derives from it, each edge with the file \
and line of the statement that makes it; a column trace follows column lineage through intermediate tables. \
The graph is Neo4j when NEO4J_URI is set, else the output folder of the embedded default (--out, \
LINEAGE_OUT_DIR), read from its *.lineage.json files through an index (trace-index.sqlite beside the parse \
cache: the first trace reads every record, later ones only those added or changed); both give the same answer. \
A name the graph does not hold exits 64 and names the closest ones it does.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> mart.daily',
    '<%= config.bin %> <%= command.id %> mart.daily.total --downstream --depth 2',
    '<%= config.bin %> <%= command.id %> stg.trades --both --format dot | dot -Tsvg > stg-trades.svg',
    '<%= config.bin %> <%= command.id %> mart.daily --format mermaid --out data/output',
  ]

  static override args = {
    name: Args.string({description: 'table (schema.table) or column (schema.table.column)', required: true}),
  }

  static override flags = {
    upstream: Flags.boolean({description: 'what NAME derives from (the default)', exclusive: ['downstream', 'both']}),
    downstream: Flags.boolean({description: 'what derives from NAME', exclusive: ['upstream', 'both']}),
    both: Flags.boolean({description: 'upstream and downstream', exclusive: ['upstream', 'downstream']}),
    depth: Flags.integer({description: 'levels of edges to follow (default: all)', min: 1}),
    format: Flags.option({
      description: 'text: a tree with file:line on each edge; dot (Graphviz) or mermaid: the subgraph',
      options: ['text', 'json', 'dot', 'mermaid'] as const,
      default: 'text' as const,
    })(),
    out: Flags.string({
      description: 'output folder to read when NEO4J_URI is not set (default: LINEAGE_OUT_DIR, data/output)',
    }),
  }

  public async run(): Promise<TraceResult> {
    const settings = resolveSettings({configFile: this.flags.config})
    const graph = await this.openReadGraph(settings, this.flags.out)
    const direction: TraceDirection = this.flags.both ? 'both' : this.flags.downstream ? 'downstream' : 'upstream'
    const result = await trace(graph, {name: this.args.name, direction, depth: this.flags.depth})
    if (!this.jsonEnabled()) this.log(formatTrace(result, this.flags.format))
    return result
  }
}
