/**
 * Which lineage graph a read command uses: Neo4j when a connection is configured (NEO4J_URI), else the output
 * folder the embedded default writes. Throws as Neo4jGraph.open and OutputGraph.load do.
 */
import type {Neo4jConnection} from '../graph/types.js'
import type {LineageGraph} from './graph.js'

export interface OpenedGraph {
  graph: LineageGraph
  /** Output files skipped as not valid lineage records (output backend only). */
  invalid: string[]
  /** Output records read (output backend only; 0 for Neo4j). */
  files: number
}

export async function openLineageGraph(options: {
  neo4j: Neo4jConnection | undefined
  /** The namespace Neo4j is read for (ops/namespace.ts); the output folder holds one namespace only. */
  namespace: string
  outDir: string
  /** SQLite index of the output folder (kept between runs); undefined: built in memory each time. */
  indexFile?: string | undefined
}): Promise<OpenedGraph> {
  if (options.neo4j) {
    const {Neo4jGraph} = await import('./neo4j-graph.js')
    return {graph: await Neo4jGraph.open(options.neo4j, options.namespace), invalid: [], files: 0}
  }
  const {OutputGraph} = await import('./out-graph.js')
  const graph = OutputGraph.load(options.outDir, {indexFile: options.indexFile})
  return {graph, invalid: graph.invalid, files: graph.files}
}
