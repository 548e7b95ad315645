/**
 * Walks a parsed query (node-sql-parser AST) and returns what it reads and what each output column
 * derives from: tables read at any depth (FROM, JOIN, subqueries in any clause, CTE bodies) with CTE
 * names resolved by scope (a CTE name is never a table), file paths read (Spark `parquet.\`/p\``), and the
 * output columns with their source columns through aliases, expressions, CTEs, derived tables and set
 * operations. Pure; never throws on unexpected shapes (an unknown node is searched for subqueries).
 */
import {
  aliasOf,
  columnName,
  columnQualifier,
  isNode,
  isPathName,
  nameOf,
  nodes,
  normIdent,
  pathOf,
  subquery,
  tableNameOf,
  type Node,
} from './ast.js'
import {mergeSetOperation, resolveColumn, Scope, STAR, starColumns, type OutCol, type Relation} from './scope.js'
import type {SchemaIndex} from './schema.js'

export interface QueryContext {
  schema: SchemaIndex
  /** T-SQL `SELECT alias = expr`. */
  tsqlAssign: boolean
  /**
   * `"x"` names a column. The MySQL and Snowflake grammars read it as a string wherever they take it (ansi
   * tries the MySQL grammar first), so a quoted alias used through a derived table lost its column.
   */
  doubleQuotedIdents: boolean
  /** Try the token-stream fast path (fast-path.ts) before the grammars; on unless false. */
  fastPath?: boolean
}

const SKIP_KEYS = new Set(['loc', 'tableList', 'columnList', 'as', 'into'])
const CLAUSES = [
  'where',
  'having',
  'groupby',
  'orderby',
  'qualify',
  'window',
  'limit',
  'top',
  'connect_by',
  'start_with',
]

export class QueryAnalyzer {
  readonly tables = new Set<string>()
  readonly paths = new Set<string>()

  constructor(private readonly ctx: QueryContext) {}

  /** A query (select, possibly with WITH and set operations). `texts` name un-aliased expressions. */
  query(node: Node, outer: Scope | null, texts?: readonly string[]): OutCol[] {
    const scope = new Scope(outer)
    this.withClause(node.with, scope)
    let cols = this.select(node, scope, texts)
    for (let next = node._next; isNode(next); next = next._next) {
      cols = mergeSetOperation(cols, this.branch(next, scope))
    }
    return cols
  }

  /** The tables and columns an expression reads (subqueries included), resolved in `scope`. */
  expr(v: unknown, scope: Scope, out = new Set<string>()): Set<string> {
    if (Array.isArray(v)) {
      for (const item of v) this.expr(item, scope, out)
      return out
    }
    if (!isNode(v)) return out
    const n = this.quotedColumn(v)
    const sub = subquery(n)
    if (sub) {
      for (const col of this.query(sub, scope)) for (const s of col.sources) out.add(s)
      return out
    }
    if (n.type === 'column_ref') {
      const c = columnName(n)
      if (c !== null) for (const s of resolveColumn(scope, columnQualifier(n), c)) out.add(s)
      return out
    }
    if (n.type === 'star') {
      for (const s of resolveColumn(scope, null, STAR)) out.add(s)
      return out
    }
    for (const [k, child] of Object.entries(n)) if (!SKIP_KEYS.has(k)) this.expr(child, scope, out)
    return out
  }

  /** Relations of a FROM list (also used for UPDATE/DELETE targets and sources). */
  from(items: unknown, scope: Scope): Relation[] {
    // mysql writes a bracketed join list as `from: {expr: [...], joins: [...]}`.
    if (isNode(items)) return [...this.from(items.expr, scope), ...this.from(items.joins, scope)]
    const rels: Relation[] = []
    for (const item of nodes(items)) rels.push(...this.fromItem(item, scope))
    return rels
  }

  /** A scope holding the CTEs of a WITH clause written before a non-query statement (WITH ... UPDATE). */
  withScope(w: unknown): Scope {
    const scope = new Scope(null)
    this.withClause(w, scope)
    return scope
  }

  private withClause(w: unknown, scope: Scope): void {
    for (const cte of nodes(w)) {
      const name = nameOf(cte.name)
      const body = subquery(cte.stmt) ?? subquery(isNode(cte.stmt) ? cte.stmt.ast : null)
      if (!name || !body) continue
      const key = normIdent(name)
      scope.ctes.set(key, []) // a recursive reference resolves to nothing rather than to a table
      const cols = this.query(body, scope)
      const names = nodes(cte.columns)
        .map((c) => nameOf(c))
        .concat((Array.isArray(cte.columns) ? cte.columns : []).filter((c): c is string => typeof c === 'string'))
      names.forEach((n, i) => {
        const col = cols[i]
        if (col && n) col.name = normIdent(n)
      })
      scope.ctes.set(key, cols)
    }
  }

  /** A later branch of a set operation (its own `_next` is walked by the caller). */
  private branch(node: Node, scope: Scope): OutCol[] {
    if (isNode(node.ast) && node.type !== 'select') return this.query(node.ast, scope)
    const own = new Scope(scope)
    this.withClause(node.with, own)
    return this.select(node, own)
  }

  private select(node: Node, cteScope: Scope, texts?: readonly string[]): OutCol[] {
    const scope = new Scope(cteScope)
    scope.rels = this.from(node.from, scope)
    for (const item of flatFrom(node.from)) {
      if (item.on) this.expr(item.on, scope)
    }
    const out = this.columns(node, scope, texts)
    for (const key of CLAUSES) if (node[key]) this.expr(node[key], scope)
    return out
  }

  private columns(node: Node, scope: Scope, texts?: readonly string[]): OutCol[] {
    const out: OutCol[] = []
    const aliases = new Map<string, Set<string>>()
    scope.aliases = aliases
    const items =
      node.columns === '*' ? [{expr: {type: 'column_ref', table: null, column: '*'}, as: null}] : nodes(node.columns)
    items.forEach((item, i) => {
      let expr = isNode(item.expr) ? this.quotedColumn(item.expr) : item.expr
      let alias = aliasOf(item)
      if (this.ctx.tsqlAssign && !alias && isNode(expr) && expr.operator === '=' && isNode(expr.left)) {
        if (expr.left.type === 'column_ref' && !columnQualifier(expr.left)) {
          alias = columnName(expr.left)
          expr = expr.right
        }
      }
      const star = starOf(expr)
      if (star) {
        // BigQuery `SELECT * EXCEPT (a, b)` drops columns from the expansion.
        const except = new Set(
          item.type === 'except' ? nodes(item.expr_list).map((e) => (isNode(e.expr) ? columnName(e.expr) : null)) : [],
        )
        out.push(...starColumns(star.qualifier, scope).filter((c) => !except.has(c.name)))
        return
      }
      const sources = this.expr(expr, scope)
      const name = alias ?? defaultName(expr, texts?.[i], i)
      out.push({name, sources})
      if (alias) aliases.set(alias, sources)
    })
    scope.aliases = null
    return out
  }

  /** A `"x"` the grammar read as a string, as the column reference it is in this dialect. */
  private quotedColumn(v: Node): Node {
    if (!this.ctx.doubleQuotedIdents || v.type !== 'double_quote_string' || typeof v.value !== 'string') return v
    return {type: 'column_ref', table: null, column: v.value}
  }

  private fromItem(item: Node, scope: Scope): Relation[] {
    if (item.type === 'dual') return []
    const alias = aliasOf(item)
    const sub = subquery(item.expr) ?? subquery(item)
    if (sub) return [{alias, table: null, columns: this.query(sub, scope), opaque: false}]
    // postgresql writes a bracketed join list as `{expr: {type: 'tables', expr: [...]}}`.
    if (isNode(item.expr) && item.expr.type === 'tables') return this.from(item.expr.expr, scope)
    const name = item.table !== undefined && item.table !== null ? tableNameOf(item) : null
    if (!name) {
      if (item.expr) this.expr(item.expr, scope)
      return [{alias: alias ?? lateralAlias(item), table: null, columns: null, opaque: true}]
    }
    if (isPathName(name)) {
      this.paths.add(pathOf(name, item))
      return [{alias, table: null, columns: null, opaque: true}]
    }
    const cte = name.includes('.') ? undefined : scope.cte(name)
    if (cte) return [{alias: alias ?? name, table: null, columns: cte, opaque: false}]
    this.tables.add(name)
    const known = this.ctx.schema.columnsOf(name)
    const columns = known ? known.map((c) => ({name: c, sources: new Set([`${name}.${c}`])})) : null
    return [{alias, table: name, columns, opaque: false}]
  }
}

/** `*` or `t.*` select items. */
function starOf(expr: unknown): {qualifier: string | null} | null {
  if (!isNode(expr)) return null
  if (expr.type === 'star') return {qualifier: null}
  if (expr.type === 'column_ref' && columnName(expr) === STAR) return {qualifier: columnQualifier(expr)}
  return null
}

function lateralAlias(item: Node): string | null {
  return typeof item.as === 'string' ? normIdent(item.as.replace(/\(.*$/, '')) : null
}

/** A column's name when it has no alias: the column for `t.c`, else the expression's text. */
function defaultName(expr: unknown, text: string | undefined, index: number): string {
  if (isNode(expr) && expr.type === 'column_ref') {
    const c = columnName(expr)
    if (c) return c
  }
  return text ?? `_col${index}`
}

/** FROM items including those inside bracketed join lists, for their ON conditions. */
function flatFrom(from: unknown): Node[] {
  if (isNode(from)) return [...flatFrom(from.expr), ...flatFrom(from.joins)]
  return nodes(from).flatMap((item) =>
    isNode(item.expr) && item.expr.type === 'tables' ? [item, ...flatFrom(item.expr.expr)] : [item],
  )
}
