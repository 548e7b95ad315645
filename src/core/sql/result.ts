/**
 * The in-progress result of one statement, as the extractors build it (sets, statement-relative
 * offsets), and the mapping of a query's output columns onto a written table's columns: by the
 * statement's explicit column list, else by the table's columns in the schema catalogue when their count
 * matches (as INSERT without a column list does), else by the query's own column names.
 */
import type {ColumnLineage, StatementStatus} from '../types.js'
import type {SchemaIndex} from './schema.js'
import {STAR, UNKNOWN_TABLE, type OutCol} from './scope.js'

export interface StmtError {
  code: string
  message: string
  /** Offset in the statement text, or null for the statement start. */
  offset: number | null
}

export interface StmtResult {
  kind: string
  sources: Set<string>
  targets: Set<string>
  columns: ColumnLineage[]
  drops: string[]
  renames: {from: string; to: string}[]
  sourcePaths: Set<string>
  targetPaths: Set<string>
  grammar: string | null
  status: Exclude<StatementStatus, 'skipped'>
  error: StmtError | null
  warnings: string[]
  /** Tables this statement defines, with their columns, for statements after it. */
  defines: {table: string; columns: string[]}[]
  /** The output columns of the statement's query, when it has one. */
  output?: OutCol[]
  /** For `fallback` results: why the grammars rejected the statement. */
  fallbackReason?: StmtError | null
}

export function newResult(kind: string, grammar: string | null): StmtResult {
  return {
    kind,
    sources: new Set(),
    targets: new Set(),
    columns: [],
    drops: [],
    renames: [],
    sourcePaths: new Set(),
    targetPaths: new Set(),
    grammar,
    status: 'ok',
    error: null,
    warnings: [],
    defines: [],
  }
}

/** A failed statement: no lineage, the error at `offset`. */
export function failed(
  kind: string,
  code: string,
  message: string,
  offset: number | null,
  grammar: string | null = null,
): StmtResult {
  const r = newResult(kind, grammar)
  r.status = 'failed'
  r.error = {code, message, offset}
  return r
}

/** Column lineage of `target` written from `cols`; `names` is the statement's explicit column list. */
export function mapColumns(
  target: string,
  cols: readonly OutCol[],
  names: readonly string[] | null,
  schema: SchemaIndex,
  fixed: readonly string[] = [],
): ColumnLineage[] {
  // Static partition columns get their value from the PARTITION clause, not from the query.
  const known = schema.columnsOf(target)?.filter((c) => !fixed.includes(c)) ?? null
  const hasStar = cols.some((c) => c.name === STAR)
  let targetNames: readonly string[] | null = names && names.length > 0 ? names : null
  if (!targetNames && known && !hasStar && known.length === cols.length) targetNames = known
  if (targetNames && hasStar) targetNames = null
  const byTarget = new Map<string, Set<string>>()
  cols.forEach((col, i) => {
    if (col.sources.size === 0) return
    const name = targetNames?.[i] ?? col.name
    const key = `${target}.${name}`
    const set = byTarget.get(key) ?? new Set<string>()
    for (const s of col.sources) set.add(s)
    byTarget.set(key, set)
  })
  return [...byTarget].map(([t, s]) => columnEntry(t, s))
}

export function columnEntry(target: string, sources: Iterable<string>): ColumnLineage {
  const list = [...new Set(sources)].sort()
  const entry: ColumnLineage = {target, sources: list}
  if (list.some((s) => s.startsWith(`${UNKNOWN_TABLE}.`))) entry.unresolved = true
  return entry
}

/** The names of a query's output columns, when all are known (for the schema of a created table). */
export function definedColumns(cols: readonly OutCol[]): string[] | null {
  if (cols.length === 0 || cols.some((c) => c.name === STAR)) return null
  return cols.map((c) => c.name)
}
