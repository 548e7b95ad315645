/** The ingest ledger of a service (its state folder's ledger.sqlite), read by tests while the service writes it. */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {openDatabase} from '../../src/core/util/sqlite.js'

/** The ingest ledger's rows (path -> graph status and content hash), read while the service may write it. */
export function ledgerRows(stateDir: string): Map<string, {graph: string; hash: string}> {
  const file = join(stateDir, 'ledger.sqlite')
  if (!existsSync(file)) return new Map()
  const db = openDatabase(file, {readonly: true, timeout: 5000})
  try {
    // Created a moment ago by a starting service: no table yet.
    if (db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'files'").pluck().get() === 0) return new Map()
    const rows = db.prepare('SELECT path, graph, content_hash AS hash FROM files').all() as {
      path: string
      graph: string
      hash: string
    }[]
    return new Map(rows.map((r) => [r.path, {graph: r.graph, hash: r.hash}]))
  } finally {
    db.close()
  }
}

/** How many ledger rows have each graph status. */
export function ledgerCounts(stateDir: string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const {graph} of ledgerRows(stateDir).values()) counts[graph] = (counts[graph] ?? 0) + 1
  return counts
}
