/**
 * Real SQL on a grammar's exponential path that the nesting guard (sql/flatten.ts, sql/grammars.ts) lets
 * through: CASTs around scalar subqueries are never flattened (they hold a query) and CAST's brackets are
 * call brackets, so the depth guard sees depth 12, under its limit. Measured on the mysql grammar, the cost
 * grows about 3x per level (depth 7: 1 s, 9: 10 s), so depth 12 runs for minutes: only the statement budget
 * stops it. Should the guard one day catch this shape, this constant needs another one that it does not.
 */
export function castAroundSubqueries(depth: number): string {
  return `INSERT INTO tab1 SELECT ${'CAST((SELECT '.repeat(depth)}col1${' FROM tab2) AS int)'.repeat(depth)} AS col1 FROM tab2`
}

/** Three statements; the second (line 2) runs over any budget of seconds, the others parse at once. */
export const FILE_WITH_SLOW_STATEMENT = [
  'INSERT INTO t_before SELECT a FROM s_before;',
  `${castAroundSubqueries(12)};`,
  'INSERT INTO t_after SELECT b FROM s_after;',
  '',
].join('\n')
