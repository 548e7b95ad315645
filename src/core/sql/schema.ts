/**
 * The schema catalogue: table name -> its columns, from a `--schema` JSON file and from the CREATE TABLE
 * statements the extractor has seen. Column lineage uses it to expand `SELECT *` and to tie unqualified
 * columns over joins to their table; what it does not know stays unresolved rather than guessed.
 * `parseSchemaCatalogue` validates untrusted JSON through SchemaCatalogueSchema and throws a configuration
 * error (E_CONFIG, exit 78) naming the first bad entry.
 */
import * as v from 'valibot'

import {LineageError} from '../errors.js'
import {issueKeys, jsonObject} from '../util/schema.js'

const name = v.pipe(v.string(), v.trim(), v.nonEmpty(), v.toLowerCase())

/** `{"db.table": ["col", ...]}`: names trimmed and lower-cased, none empty. */
export const SchemaCatalogueSchema = jsonObject(v.record(name, v.array(name)), 'not an object')
export type SchemaCatalogue = v.InferOutput<typeof SchemaCatalogueSchema>

/** Validate a parsed `--schema` file: `{"db.table": ["col", ...]}`; names are lower-cased. */
export function parseSchemaCatalogue(json: unknown): SchemaCatalogue {
  const parsed = v.safeParse(SchemaCatalogueSchema, json)
  if (parsed.success) return parsed.output
  const [issue] = parsed.issues
  const [table] = issueKeys(issue)
  if (table === undefined) {
    throw new LineageError(
      'E_CONFIG',
      'schema catalogue must be a JSON object mapping table names to arrays of column names',
      'Example: {"sales.orders": ["order_id", "customer_id", "amount"]}',
    )
  }
  if (issue.path?.[0]?.origin === 'key') throw new LineageError('E_CONFIG', 'schema catalogue has an empty table name')
  throw new LineageError('E_CONFIG', `schema catalogue entry "${table}" must be an array of non-empty column names`)
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
