import {openDatabase} from '../../src/core/util/sqlite.js'

/**
 * Change every `from` to `to` inside each stored payload of the parse cache at `file` that holds it, the way a
 * bad disk block or a hand edit would: same length, still valid JSON, the checksum left as it was. Goes
 * through a connection of its own (the cache may be open elsewhere). Returns how many entries it changed.
 */
export function editCachedPayloads(file: string, from: string, to: string): number {
  if (from.length !== to.length) throw new Error('the edit must keep the length')
  const db = openDatabase(file)
  try {
    const rows = db.prepare('SELECT id, lineage FROM entries').all() as {id: number; lineage: string}[]
    const update = db.prepare('UPDATE entries SET lineage = ? WHERE id = ?')
    let changed = 0
    for (const row of rows) {
      if (!row.lineage.includes(from)) continue
      const edited = row.lineage.replaceAll(from, to)
      if (Buffer.byteLength(edited) !== Buffer.byteLength(row.lineage)) throw new Error('the edit changed the size')
      update.run(edited, row.id)
      changed++
    }
    return changed
  } finally {
    db.close()
  }
}
