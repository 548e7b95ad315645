/**
 * The lineage graph of the embedded default, built from the output folder: every `OUT/**\/*.lineage.json`
 * the service wrote, read once into memory. The edges are exactly those the Neo4j writer derives from the same
 * lineage (graph/model.ts): per statement, each target table from each source table, and each resolved target
 * column from each resolved source column; `?.col` sources are left out as they are there. A file that is not
 * a valid output record is skipped and named in `invalid`; nothing here throws for a file's sake.
 * Throws LineageError E_USAGE when the folder does not exist.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

import * as v from 'valibot'

import {LineageError} from '../errors.js'
import {splitColumn} from '../graph/model.js'
import {type Direction, type LineageEdge, type LineageGraph, type Level, uniqueEdges} from './graph.js'

const OUTPUT_SUFFIX = '.lineage.json'
const texts = v.array(v.string())

/** The part of an output record (ingest/file-task.ts OutputRecord) the graph is made of. */
const RecordSchema = v.object({
  lineage: v.object({
    path: v.string(),
    statements: v.array(
      v.object({
        index: v.number(),
        line: v.number(),
        sources: texts,
        targets: texts,
        columns: v.array(v.object({target: v.string(), sources: texts})),
      }),
    ),
  }),
})
type RecordLineage = v.InferOutput<typeof RecordSchema>['lineage']

class Index {
  readonly byTarget = new Map<string, LineageEdge[]>()
  readonly bySource = new Map<string, LineageEdge[]>()
  readonly byFile = new Map<string, LineageEdge[]>()
  readonly names = new Set<string>()

  add(edge: LineageEdge): void {
    push(this.byTarget, edge.target, edge)
    push(this.bySource, edge.source, edge)
    push(this.byFile, edge.file, edge)
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

export class OutputGraph implements LineageGraph {
  readonly backend = 'output' as const
  /** Output files skipped as unreadable or not output records, relative to the folder. */
  readonly invalid: string[] = []
  /** How many output records the graph was built from. */
  files = 0
  private readonly tables = new Index()
  private readonly columns = new Index()

  static load(outDir: string): OutputGraph {
    if (!isDirectory(outDir)) {
      throw new LineageError(
        'E_USAGE',
        `output folder ${outDir} does not exist`,
        'Pass the folder `lineage watch` writes (LINEAGE_OUT_DIR), or set NEO4J_URI to read the graph.',
      )
    }
    const graph = new OutputGraph()
    const entries = readdirSync(outDir, {recursive: true, encoding: 'utf8'})
    for (const rel of entries.filter((e) => e.endsWith(OUTPUT_SUFFIX)).sort()) {
      const lineage = readRecord(join(outDir, rel))
      if (lineage) graph.addFile(lineage)
      else graph.invalid.push(rel)
    }
    return graph
  }

  private addFile(lineage: RecordLineage): void {
    this.files++
    const seen = new Set<number>()
    for (const st of lineage.statements) {
      // Statements sharing an index keep the first, as graph/model.ts does.
      if (seen.has(st.index)) continue
      seen.add(st.index)
      const file = lineage.path
      const line = st.line
      for (const name of [...st.sources, ...st.targets]) this.tables.names.add(name)
      for (const target of new Set(st.targets)) {
        for (const source of new Set(st.sources)) this.tables.add({source, target, file, line})
      }
      for (const col of st.columns) {
        const target = splitColumn(col.target)
        if (!target) continue
        this.columns.names.add(col.target)
        this.tables.names.add(target.table)
        for (const source of col.sources) {
          const parsed = splitColumn(source)
          if (!parsed) continue
          this.columns.names.add(source)
          this.tables.names.add(parsed.table)
          this.columns.add({source, target: col.target, file, line})
        }
      }
    }
  }

  private index(level: Level): Index {
    return level === 'table' ? this.tables : this.columns
  }

  kindOf(name: string): Promise<Level | undefined> {
    if (this.tables.names.has(name)) return Promise.resolve('table')
    return Promise.resolve(this.columns.names.has(name) ? 'column' : undefined)
  }

  edges(level: Level, names: readonly string[], direction: Direction): Promise<LineageEdge[]> {
    const index = this.index(level)
    const map = direction === 'upstream' ? index.byTarget : index.bySource
    return Promise.resolve(uniqueEdges(names.flatMap((n) => map.get(n) ?? [])))
  }

  names(level: Level): Promise<string[]> {
    return Promise.resolve([...this.index(level).names].sort())
  }

  fileEdges(level: Level, files: readonly string[]): Promise<Map<string, LineageEdge[]>> {
    const index = this.index(level)
    return Promise.resolve(new Map(files.map((f) => [f, uniqueEdges(index.byFile.get(f) ?? [])])))
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function readRecord(file: string): RecordLineage | undefined {
  try {
    const parsed = v.safeParse(RecordSchema, JSON.parse(readFileSync(file, 'utf8')))
    return parsed.success ? parsed.output.lineage : undefined
  } catch {
    return undefined
  }
}
