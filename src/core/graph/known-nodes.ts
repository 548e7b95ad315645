/**
 * The Table and Column nodes this writer knows the graph holds, so the batched writer does not MERGE them
 * again for every file that names them. Pure bookkeeping: no I/O; throws nothing.
 *
 * Why: files share tables and columns. On the bench corpus (300 files) the batched writer sent 88,249 Column
 * rows for 31,754 distinct columns, and the Column MERGE (with its HAS_COLUMN) was 40% of Neo4j's query time.
 * Leaving out the rows of nodes written before took Neo4j's CPU per file from 20-22 ms to 14-16 ms on a fresh
 * graph (docs/performance.md).
 *
 * Why it stays exact although other processes write the same graph (a second namespace's watcher, a
 * `retry-failed`): an entry is only a hint, and a known node is left out of a transaction only when that
 * transaction also MATCHes it as the endpoint of a relationship row it creates (a column as an end of a column
 * DERIVES_FROM, a table as an end of READS, WRITES, a table DERIVES_FROM, or as the table of a Column row
 * still sent). Those queries count what they created; a node deleted behind our back makes the count short,
 * and the writer then forgets everything and writes the group again with every node MERGEd (batch-writer).
 * A node nothing in the transaction would MATCH is MERGEd as before. Deletions this process makes itself
 * (the orphan clean-up) are forgotten as they happen.
 *
 * Entries are added only after a transaction commits, so a rolled-back write never leaves a node "known".
 * A column is known together with its HAS_COLUMN (every Column row MERGEs both); a column written without a
 * table (rows replayed from an old failed-ingestion file) is not remembered.
 */

/** Past this many keys the set starts again empty: memory stays bounded at any repository size. */
export const MAX_KNOWN_KEYS = 2_000_000

export class KnownNodes {
  private readonly tables = new Set<string>()
  private readonly columns = new Set<string>()

  hasTable(key: string): boolean {
    return this.tables.has(key)
  }

  hasColumn(key: string): boolean {
    return this.columns.has(key)
  }

  /** Remember what a committed transaction wrote. */
  remember(tableKeys: Iterable<string>, columnKeys: Iterable<string>): void {
    for (const k of tableKeys) this.tables.add(k)
    for (const k of columnKeys) this.columns.add(k)
    if (this.tables.size + this.columns.size > MAX_KNOWN_KEYS) this.clear()
  }

  forget(tableKeys: Iterable<string>, columnKeys: Iterable<string>): void {
    for (const k of tableKeys) this.tables.delete(k)
    for (const k of columnKeys) this.columns.delete(k)
  }

  clear(): void {
    this.tables.clear()
    this.columns.clear()
  }

  get size(): number {
    return this.tables.size + this.columns.size
  }
}
