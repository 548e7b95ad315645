/**
 * Statements parsed whole by a grammar and read from the AST: UPDATE (target, tables of FROM/JOIN and
 * subqueries, and column lineage of each `SET col = expr`), DELETE (target, USING/JOIN/subquery
 * sources), INSERT forms the header reader declined (INSERT ... SET, Oracle INSERT ALL), and anything
 * else a grammar accepts (its subqueries' tables are sources). A T-SQL target given by an alias of the
 * FROM list (`UPDATE a SET ... FROM t a`) is resolved to the table.
 */
import {columnName, isNode, nodes, normIdent, tableNameOf, type Node} from './ast.js'
import type {StatementContext} from './context.js'
import {QueryAnalyzer} from './query.js'
import {columnEntry, newResult, type StmtResult} from './result.js'
import {Scope, type Relation} from './scope.js'

/** Lineage of a statement AST (the first statement when the grammar returned several). */
export function fromAst(ast: unknown, kind: string, grammar: string, ctx: StatementContext): StmtResult {
  const stmt = Array.isArray(ast) ? (ast as unknown[]).find(isNode) : ast
  const r = newResult(kind, grammar)
  if (!isNode(stmt)) return r
  const analyzer = new QueryAnalyzer(ctx.query)
  const scope = new Scope(stmt.with ? analyzer.withScope(stmt.with) : null)
  const type = typeof stmt.type === 'string' ? stmt.type : ''
  if (type === 'update') update(stmt, analyzer, scope, r)
  else if (type === 'delete') remove(stmt, analyzer, scope, r)
  else if (type === 'insert' || type === 'replace') insert(stmt, analyzer, scope, r)
  else analyzer.expr(stmt, scope)
  // UPDATE/DELETE name their target in their table lists, which the analyzer read as tables; that is a
  // write, not a read. An INSERT's target is never walked, so its self-reads stay.
  const writesOnly = type === 'update' || type === 'delete'
  for (const t of analyzer.tables) if (!writesOnly || !r.targets.has(t)) r.sources.add(t)
  for (const p of analyzer.paths) r.sourcePaths.add(p)
  return r
}

function update(stmt: Node, analyzer: QueryAnalyzer, scope: Scope, r: StmtResult): void {
  const fromRels = analyzer.from(stmt.from, scope)
  // T-SQL `UPDATE a SET ... FROM t a`: the target names an alias of the FROM list, not a table.
  const aliasOfFrom = (item: Node): boolean =>
    fromRels.some((rel) => rel.alias !== null && rel.alias === tableNameOf(item))
  const own = nodes(stmt.table).filter((item) => !aliasOfFrom(item))
  scope.rels = [...analyzer.from(own, scope), ...fromRels]
  const first = nodes(stmt.table)[0]
  const target = first ? targetOf(first, scope.rels) : null
  if (!target) return
  r.targets.add(target)
  const byTarget = new Map<string, Set<string>>()
  for (const item of nodes(stmt.set)) {
    const col = typeof item.column === 'string' ? normIdent(item.column) : columnName(item)
    if (!col) continue
    const qualifier = typeof item.table === 'string' && item.table ? normIdent(item.table) : null
    const rel = qualifier ? scope.rels.find((x) => x.alias === qualifier || x.table === qualifier) : null
    const key = `${rel?.table ?? target}.${col}`
    const sources = analyzer.expr(item.value, scope)
    if (sources.size > 0) byTarget.set(key, new Set([...(byTarget.get(key) ?? []), ...sources]))
  }
  r.columns = [...byTarget].map(([t, s]) => columnEntry(t, s))
  for (const key of ['where', 'orderby', 'limit']) if (stmt[key]) analyzer.expr(stmt[key], scope)
  for (const item of [...nodes(stmt.table), ...nodes(stmt.from)]) if (item.on) analyzer.expr(item.on, scope)
}

/** The table an UPDATE/DELETE target names, resolving an alias of the FROM list. */
function targetOf(item: Node, rels: readonly Relation[]): string | null {
  const name = tableNameOf(item)
  if (!name) return null
  const aliased = rels.find((rel) => rel.alias === name && rel.table)
  return aliased?.table ?? name
}

function remove(stmt: Node, analyzer: QueryAnalyzer, scope: Scope, r: StmtResult): void {
  const from = nodes(stmt.from)
  scope.rels = [...analyzer.from(from, scope), ...analyzer.from(stmt.using, scope)]
  const named = nodes(stmt.table).filter((t) => t.table !== undefined)
  const targets = named.length > 0 ? named : from.slice(0, 1)
  for (const t of targets) {
    const name = targetOf(t, scope.rels)
    if (name) r.targets.add(name)
  }
  if (stmt.where) analyzer.expr(stmt.where, scope)
  for (const item of from) if (item.on) analyzer.expr(item.on, scope)
}

function insert(stmt: Node, analyzer: QueryAnalyzer, scope: Scope, r: StmtResult): void {
  for (const t of nodes(stmt.table)) {
    const name = tableNameOf(t)
    if (name) r.targets.add(name)
  }
  analyzer.expr(stmt.values, scope)
  analyzer.expr(stmt.set, scope)
}
