/**
 * The schema catalogue: table name -> its columns, from a `--schema` JSON file and from the CREATE TABLE
 * statements the extractor has seen. Column lineage uses it to expand `SELECT *` and to tie unqualified
 * columns over joins to their table; what it does not know stays unresolved rather than guessed.
 * `parseSchemaCatalogue` validates untrusted JSON and throws a configuration error (exit 78) naming the
 * first bad entry.
 */
import {LineageError} from '../errors.js'

export type SchemaCatalogue = Record<string, string[]>

/** Validate a parsed `--schema` file: `{"db.table": ["col", ...]}`; names are lower-cased. */
export function parseSchemaCatalogue(json: unknown): SchemaCatalogue {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new LineageError(
      'E_CONFIG',
      'schema catalogue must be a JSON object mapping table names to arrays of column names',
      'Example: {"sales.orders": ["order_id", "customer_id", "amount"]}',
    )
  }
  const out: SchemaCatalogue = {}
  for (const [table, cols] of Object.entries(json as Record<string, unknown>)) {
    if (!table.trim()) throw new LineageError('E_CONFIG', 'schema catalogue has an empty table name')
    if (!Array.isArray(cols) || !cols.every((c): c is string => typeof c === 'string' && c.trim() !== '')) {
      throw new LineageError('E_CONFIG', `schema catalogue entry "${table}" must be an array of non-empty column names`)
    }
    out[table.trim().toLowerCase()] = cols.map((c) => c.trim().toLowerCase())
  }
  return out
}

/** Case-insensitive lookups with a fallback from `orders` to a unique `sales.orders`. */
export class SchemaIndex {
  private readonly exact = new Map<string, string[]>()
  private readonly byLast = new Map<string, string[] | null>()

  constructor(...catalogues: (SchemaCatalogue | undefined)[]) {
    for (const cat of catalogues) {
      if (!cat) continue
      for (const [table, cols] of Object.entries(cat)) this.add(table, cols)
    }
  }

  add(table: string, columns: readonly string[]): void {
    const key = table.toLowerCase()
    const cols = columns.map((c) => c.toLowerCase())
    this.exact.set(key, cols)
    const last = key.split('.').pop() ?? key
    if (last !== key) this.byLast.set(last, this.byLast.has(last) ? null : cols)
  }

  /** The columns of a table as written (`db.t` or `t`), or null when unknown. */
  columnsOf(table: string): string[] | null {
    const key = table.toLowerCase()
    const hit = this.exact.get(key)
    if (hit) return hit
    if (key.includes('.')) return null
    return this.byLast.get(key) ?? null
  }

  get size(): number {
    return this.exact.size
  }

  /** The entries, for combining catalogues from several files. */
  toCatalogue(): SchemaCatalogue {
    return Object.fromEntries(this.exact)
  }
}
