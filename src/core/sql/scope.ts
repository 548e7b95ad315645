/**
 * Name resolution for column lineage. A `Scope` holds the relations of one SELECT (base tables, derived
 * tables, CTE references, table functions) and the CTEs visible to it, chained to its enclosing scope for
 * correlated references. `resolveColumn` ties a column reference to source columns:
 *
 * - `t.c`: the relation aliased or named `t` (also by a table's last name part, as databases allow);
 * - `c` with one relation: that relation; with several: every relation whose known columns include `c`,
 *   else the only relation whose columns are unknown, else a lateral alias of the same select list,
 *   else unresolved (`?.c`), never a guess.
 *
 * Sources are strings `table.column`; `table.*` stands for "all columns of table"; `?.c` is unresolved.
 */

/** One output column of a query: its name and the source columns it derives from. */
export interface OutCol {
  name: string
  sources: Set<string>
}

export const STAR = '*'
export const UNKNOWN_TABLE = '?'

export interface Relation {
  alias: string | null
  /** The base table, for relations that read one. */
  table: string | null
  /** Output columns (derived tables, CTEs, tables the schema knows); null when unknown. */
  columns: OutCol[] | null
  /** A table function (UNNEST, json_tuple...): its columns come from no table. */
  opaque: boolean
}

export class Scope {
  readonly ctes = new Map<string, OutCol[]>()
  rels: Relation[] = []
  /** Aliases defined earlier in the select list being read (lateral alias references). */
  aliases: Map<string, Set<string>> | null = null

  constructor(readonly parent: Scope | null) {}

  cte(name: string): OutCol[] | undefined {
    return this.ctes.get(name) ?? this.parent?.cte(name)
  }
}

/** Is the relation's column list complete (from a schema or a derived query without `*`)? */
export function isKnown(rel: Relation): boolean {
  return rel.columns !== null && !rel.columns.some((c) => c.name === STAR)
}

function matches(rel: Relation, qualifier: string): boolean {
  if (rel.alias === qualifier) return true
  if (!rel.table) return false
  return rel.table === qualifier || rel.table.endsWith(`.${qualifier}`)
}

/** The sources of column `c` read through `rel`. */
export function columnOf(rel: Relation, c: string): Set<string> {
  if (rel.opaque) return new Set()
  if (rel.table) return new Set([`${rel.table}.${c}`])
  const cols = rel.columns ?? []
  if (c === STAR) return new Set(cols.flatMap((col) => [...col.sources]))
  const hit = cols.find((col) => col.name === c)
  if (hit) return hit.sources
  const out = new Set<string>()
  for (const w of cols.filter((col) => col.name === STAR)) {
    for (const s of w.sources) if (s.endsWith(`.${STAR}`)) out.add(`${s.slice(0, -1)}${c}`)
  }
  if (out.size === 0) out.add(`${UNKNOWN_TABLE}.${c}`)
  return out
}

function hasColumn(rel: Relation, c: string): boolean {
  return isKnown(rel) && (rel.columns ?? []).some((col) => col.name === c)
}

/** Resolve `qualifier.c` (qualifier may be null) in `scope` and its enclosing scopes. */
export function resolveColumn(scope: Scope, qualifier: string | null, c: string): Set<string> {
  if (qualifier !== null) {
    for (let s: Scope | null = scope; s; s = s.parent) {
      const rel = s.rels.find((r) => matches(r, qualifier))
      if (rel) return columnOf(rel, c)
    }
    return new Set([`${UNKNOWN_TABLE}.${c}`])
  }
  for (let s: Scope | null = scope; s; s = s.parent) {
    const hit = resolveUnqualified(s, c)
    if (hit) return hit
  }
  return new Set([`${UNKNOWN_TABLE}.${c}`])
}

/** Resolution within one scope; null lets the caller try the enclosing scope. */
function resolveUnqualified(scope: Scope, c: string): Set<string> | null {
  const rels = scope.rels
  const alias = scope.aliases?.get(c)
  const only = rels.length === 1 ? rels[0] : undefined
  if (only) {
    if (alias && isKnown(only) && !hasColumn(only, c)) return alias
    return columnOf(only, c)
  }
  if (c === STAR) return new Set(rels.flatMap((r) => [...columnOf(r, STAR)]))
  const owners = rels.filter((r) => hasColumn(r, c))
  if (owners.length > 0) return new Set(owners.flatMap((r) => [...columnOf(r, c)]))
  const unknown = rels.filter((r) => !isKnown(r) && !r.opaque)
  if (unknown.length === 1 && unknown[0]) return columnOf(unknown[0], c)
  if (alias) return alias
  if (rels.length === 0) return null
  return new Set([`${UNKNOWN_TABLE}.${c}`])
}

/**
 * The output columns `SELECT *` (or `rel.*`) produces from a relation. A named column that a wildcard
 * of the same relation already covers (`SELECT f1, * FROM t` over a table of unknown columns) is left
 * out: `t.*` includes it.
 */
export function expandStar(rel: Relation): OutCol[] {
  if (rel.opaque) return []
  if (rel.table && !rel.columns) return [{name: STAR, sources: new Set([`${rel.table}.${STAR}`])}]
  const cols = rel.columns ?? []
  const wild = new Set(cols.filter((c) => c.name === STAR).flatMap((c) => [...c.sources]))
  const covered = (c: OutCol): boolean =>
    c.name !== STAR &&
    c.sources.size > 0 &&
    [...c.sources].every((s) => wild.has(`${s.slice(0, s.lastIndexOf('.'))}.${STAR}`))
  return cols.filter((c) => wild.size === 0 || !covered(c)).map((c) => ({name: c.name, sources: new Set(c.sources)}))
}

/** The output columns of `*` (qualifier null) or `q.*` in a select list resolved in `scope`. */
export function starColumns(qualifier: string | null, scope: Scope): OutCol[] {
  const rels =
    qualifier === null
      ? scope.rels
      : scope.rels.filter(
          (r) => r.alias === qualifier || r.table === qualifier || (r.table?.endsWith(`.${qualifier}`) ?? false),
        )
  if (qualifier !== null && rels.length === 0) return [{name: STAR, sources: new Set([`${qualifier}.${STAR}`])}]
  return rels.flatMap(expandStar)
}

/** UNION/INTERSECT/EXCEPT: columns by position, named by the first branch. */
export function mergeSetOperation(a: OutCol[], b: OutCol[]): OutCol[] {
  const out = a.map((col, i) => ({name: col.name, sources: new Set([...col.sources, ...(b[i]?.sources ?? [])])}))
  return out.concat(b.slice(a.length))
}
