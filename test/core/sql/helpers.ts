import {
  extractLineage,
  type ExtractOptions,
  type FileLineage,
  type StatementLineage,
} from '../../../src/core/sql/index.js'

/** Extract `sql` as file `test.sql` in `dialect` (ansi by default). */
export function lineage(sql: string, dialect = 'ansi', opts: Partial<ExtractOptions> = {}): FileLineage {
  return extractLineage(sql, {path: 'test.sql', dialect, ...opts})
}

/** The only statement of `sql`; throws when there is not exactly one. */
export function single(sql: string, dialect = 'ansi', opts: Partial<ExtractOptions> = {}): StatementLineage {
  const f = lineage(sql, dialect, opts)
  const [st, ...rest] = f.statements
  if (!st || rest.length > 0) throw new Error(`expected one statement, got ${f.statements.length}`)
  return st
}

/** Column lineage as sorted `source -> target` strings (file level). */
export function pairs(f: FileLineage): string[] {
  return (f.columns ?? []).flatMap((c) => c.sources.map((s) => `${s} -> ${c.target}`)).sort()
}
