/**
 * Typed access to node-sql-parser's AST, which is untyped JSON whose shape differs between grammars
 * (a column is `"a"` in mysql and `{expr: {value: "a"}}` in postgresql; a subquery is `{ast: select}` or
 * the select itself). Everything here reads `unknown` defensively and never throws.
 */

export type Node = Record<string, unknown>

export function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? (v as unknown[]) : []
}

export function nodes(v: unknown): Node[] {
  return asArray(v).filter(isNode)
}

/** A name that may be a string, `{value}`, `{expr: {value}}` or `{name: [{value}]}`. */
export function nameOf(v: unknown): string | null {
  if (typeof v === 'string') return v
  if (typeof v === 'number') return String(v)
  if (!isNode(v)) return null
  if (typeof v.value === 'string') return v.value
  if (isNode(v.expr)) return nameOf(v.expr)
  if (Array.isArray(v.name)) {
    const parts = v.name.map(nameOf).filter((p): p is string => p !== null)
    return parts.length > 0 ? parts.join('.') : null
  }
  if (v.name !== undefined) return nameOf(v.name)
  return null
}

/** Lower-cased identifier with surrounding quotes removed. */
export function normIdent(s: string): string {
  let t = s.trim()
  const q = t[0]
  if (t.length >= 2 && (q === '"' || q === '`' || q === '[')) {
    const close = q === '[' ? ']' : q
    if (t.endsWith(close)) t = t.slice(1, -1)
  }
  return t.toLowerCase()
}

/** The qualified table name of a FROM/INTO item (`db.schema.table`, lower-cased), or null. */
export function tableNameOf(n: Node): string | null {
  const table = typeof n.table === 'string' ? n.table : nameOf(n.table)
  if (!table) return null
  const db = typeof n.db === 'string' && n.db ? n.db : typeof n.catalog === 'string' ? n.catalog : null
  const schema = typeof n.schema === 'string' && n.schema ? n.schema : null
  return [db, schema, table]
    .filter((p): p is string => p !== null && p !== '')
    .map(normIdent)
    .join('.')
}

/** The select node inside a subquery wrapper (`{ast}`, `{expr: {ast}}`), or null. */
export function subquery(v: unknown): Node | null {
  if (!isNode(v)) return null
  if (v.type === 'select') return v
  if (isNode(v.ast) && v.ast.type === 'select') return v.ast
  return null
}

/** The alias of a FROM item or select column, lower-cased and unquoted. */
export function aliasOf(n: Node): string | null {
  const a = n.as
  if (typeof a === 'string') return a ? normIdent(a) : null
  const name = nameOf(a)
  return name ? normIdent(name) : null
}

/** The column name of a column_ref (`*` for a star), or null. */
export function columnName(ref: Node): string | null {
  const c = ref.column
  if (typeof c === 'string') return c === '*' ? '*' : normIdent(c)
  const name = nameOf(c)
  return name === null ? null : normIdent(name)
}

/** The qualifier of a column_ref (`t` in `t.c`), or null. */
export function columnQualifier(ref: Node): string | null {
  const t = ref.table
  if (typeof t === 'string' && t) return normIdent(t)
  const name = nameOf(t)
  return name ? normIdent(name) : null
}

/** Does a table name denote a file or URI (Spark `parquet.\`/path\``, `s3://...`) rather than a table? */
export function isPathName(name: string): boolean {
  return name.includes('/') || name.includes(':\\')
}

/** The path part of a path-like name (`parquet.examples/x/` -> `examples/x/`). */
export function pathOf(name: string, raw: Node): string {
  const table = typeof raw.table === 'string' ? raw.table : name
  return table.includes('/') ? table : name
}
