/**
 * What one output record (`OUT/<path>.lineage.json`, ingest/file-task.ts) contributes to the lineage graph:
 * exactly the edges the Neo4j writer derives from the same lineage (graph/model.ts): per statement, each
 * target table from each source table, and each resolved target column from each resolved source column
 * (`?.col` sources are left out there too), plus the table and column nodes it names. Statements sharing an
 * index keep the first. Returns undefined for a file that is unreadable or not an output record; never throws.
 */
import {readFileSync} from 'node:fs'

import * as v from 'valibot'

import {splitColumn} from '../graph/model.js'
import type {LineageEdge} from './graph.js'

const texts = v.array(v.string())

/** The part of an output record the graph is made of. */
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

export interface RecordGraph {
  /** The SQL file's path relative to the watched folder (what Neo4j calls SqlFile.path). */
  path: string
  tables: Set<string>
  columns: Set<string>
  tableEdges: LineageEdge[]
  columnEdges: LineageEdge[]
}

export function readRecordGraph(file: string): RecordGraph | undefined {
  let parsed
  try {
    parsed = v.safeParse(RecordSchema, JSON.parse(readFileSync(file, 'utf8')))
  } catch {
    return undefined
  }
  if (!parsed.success) return undefined
  return graphOfLineage(parsed.output.lineage)
}

/** What a file's lineage (an output record's, or a fresh parse's: impact's "after") contributes to the graph. */
export function graphOfLineage(lineage: v.InferOutput<typeof RecordSchema>['lineage']): RecordGraph {
  const out: RecordGraph = {path: lineage.path, tables: new Set(), columns: new Set(), tableEdges: [], columnEdges: []}
  const seen = new Set<number>()
  for (const st of lineage.statements) {
    if (seen.has(st.index)) continue
    seen.add(st.index)
    const at = {file: lineage.path, line: st.line}
    for (const name of [...st.sources, ...st.targets]) out.tables.add(name)
    for (const target of new Set(st.targets)) {
      for (const source of new Set(st.sources)) out.tableEdges.push({source, target, ...at})
    }
    for (const col of st.columns) {
      const target = splitColumn(col.target)
      if (!target) continue
      out.columns.add(col.target)
      out.tables.add(target.table)
      for (const source of col.sources) {
        const parsedSource = splitColumn(source)
        if (!parsedSource) continue
        out.columns.add(source)
        out.tables.add(parsedSource.table)
        out.columnEdges.push({source, target: col.target, ...at})
      }
    }
  }
  return out
}
