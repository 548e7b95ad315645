/**
 * The read side of the lineage graph: what `trace` and `impact` ask of it, answered the same way by Neo4j
 * (neo4j-graph.ts) and by the output folder of the embedded default (out-graph.ts). Nodes are named as the
 * graph names them: a table by its name (`mart.daily`), a column by its id (`mart.daily.total`). An edge
 * says that `target` derives from `source`, and where: the file and the 1-based line of the statement.
 */

export type Level = 'table' | 'column'
export type Direction = 'upstream' | 'downstream'

export interface LineageEdge {
  source: string
  target: string
  file: string
  line: number
}

export interface LineageGraph {
  /** Which backend answers: named in results, so a reader knows where the answer came from. */
  readonly backend: 'neo4j' | 'output'
  /** 'table' or 'column' when the graph holds a node of that name (a table wins), else undefined. */
  kindOf(name: string): Promise<Level | undefined>
  /** The edges whose target (upstream) or source (downstream) is one of `names`. */
  edges(level: Level, names: readonly string[], direction: Direction): Promise<LineageEdge[]>
  /** Every node name at a level: the candidates for "did you mean". */
  names(level: Level): Promise<string[]>
  /** The edges each given file's statements produce, keyed by file path (impact's "before"). */
  fileEdges(level: Level, files: readonly string[]): Promise<Map<string, LineageEdge[]>>
  close(): Promise<void>
}

/** A stable order for edges, so both backends print the same thing. */
export function compareEdges(a: LineageEdge, b: LineageEdge): number {
  return cmp(a.target, b.target) || cmp(a.source, b.source) || cmp(a.file, b.file) || a.line - b.line
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Edges without duplicates (one statement may list a pair twice), sorted. */
export function uniqueEdges(edges: Iterable<LineageEdge>): LineageEdge[] {
  const seen = new Map<string, LineageEdge>()
  for (const e of edges) seen.set(JSON.stringify([e.target, e.source, e.file, e.line]), e)
  return [...seen.values()].sort(compareEdges)
}
