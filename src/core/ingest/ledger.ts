/**
 * The ingest ledger: what the service last ingested for each file of the watched folder (size, mtime,
 * content hash, and whether its graph write landed). The start-up reconcile compares the folder with it to
 * find files that changed, appeared or vanished while the service was down.
 *
 * It is only ever a shortcut: a row is written after the file's graph write and output have landed, so a
 * crash in between means the file is ingested again (re-ingest is idempotent). A damaged ledger is moved
 * aside and started afresh, which costs one full re-ingest and loses nothing.
 */
import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'

import {moveAside, openDatabase, type Db} from '../util/sqlite.js'

import {errorMessage, LineageError} from '../errors.js'
import type {Logger} from '../logger.js'

/** written: in the graph; failed: in the failed-ingestion file; off: no graph configured. */
export type GraphStatus = 'written' | 'failed' | 'off'

export interface LedgerRow {
  path: string
  size: number
  mtimeMs: number
  contentHash: string
  graph: GraphStatus
  updatedAt: string
  /**
   * Parses of this content in a row that ran out of time (lineage `incomplete`); 0 or absent: complete. Such a
   * file is parsed again, with a longer budget (incomplete-retry.ts).
   */
  incomplete?: number
}

interface RawRow {
  path: string
  size: number
  mtime_ms: number
  content_hash: string
  graph: string
  updated_at: string
  incomplete: number
}

/** The ledger as the ingestor uses it. */
export interface LedgerStore {
  get(path: string): LedgerRow | undefined
  apply(changes: {path: string; row: LedgerRow | null}[]): void
}

export class Ledger implements LedgerStore {
  private constructor(
    private db: Db,
    private readonly file: string,
  ) {}

  static open(file: string, logger: Logger): Ledger {
    mkdirSync(dirname(file), {recursive: true})
    try {
      return new Ledger(Ledger.connect(file), file)
    } catch (error) {
      const moved = moveAside(file, undefined, new Date())
      const where = moved.kind === 'moved' ? `moved to ${moved.to}` : 'removed'
      logger.warn(`ingest ledger ${file} is unreadable (${errorMessage(error)}); ${where}, re-ingesting all`)
      return new Ledger(Ledger.connect(file), file)
    }
  }

  private static connect(file: string): Db {
    const db = openDatabase(file, {timeout: 5000})
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(`CREATE TABLE IF NOT EXISTS files (
      path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
      content_hash TEXT NOT NULL, graph TEXT NOT NULL, updated_at TEXT NOT NULL,
      incomplete INTEGER NOT NULL DEFAULT 0)`)
    // A ledger from before the column: added in place (its rows are complete; an older release ignores it).
    const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('files')
    if (!columns.includes('incomplete')) db.exec('ALTER TABLE files ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0')
    db.prepare('SELECT count(*) FROM files').get()
    return db
  }

  /** The files whose lineage is incomplete (their parse ran out of time). */
  incomplete(): LedgerRow[] {
    const rows = this.db.prepare('SELECT * FROM files WHERE incomplete > 0 ORDER BY path').all() as RawRow[]
    return rows.map(fromRaw)
  }

  /**
   * Every row in path order, read one at a time (better-sqlite3 `iterate`): the start-up reconcile merges them
   * with the sorted folder listing, and at 200,000 files holding them all in a Map cost 150 MB. The order is
   * SQLite's BINARY collation (the primary key's index, no sort step): UTF-8 bytes, that is code points, not
   * JavaScript's UTF-16 order (reconciler.ts byCodePoint). No write may run on this connection until the
   * iteration ends or is returned.
   */
  *rows(): Generator<LedgerRow, void, undefined> {
    const rows = this.db.prepare('SELECT * FROM files ORDER BY path').iterate() as IterableIterator<RawRow>
    for (const r of rows) yield fromRaw(r)
  }

  get(path: string): LedgerRow | undefined {
    const row = this.db.prepare('SELECT * FROM files WHERE path = ?').get(path) as RawRow | undefined
    return row ? fromRaw(row) : undefined
  }

  /** Record several files in one transaction; a null row removes the path. */
  apply(changes: {path: string; row: LedgerRow | null}[]): void {
    const put = this.db.prepare(
      `INSERT INTO files (path, size, mtime_ms, content_hash, graph, updated_at, incomplete)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
         content_hash = excluded.content_hash, graph = excluded.graph, updated_at = excluded.updated_at,
         incomplete = excluded.incomplete`,
    )
    const del = this.db.prepare('DELETE FROM files WHERE path = ?')
    try {
      this.db.transaction(() => {
        for (const {path, row} of changes) {
          if (row) put.run(path, row.size, row.mtimeMs, row.contentHash, row.graph, row.updatedAt, row.incomplete ?? 0)
          else del.run(path)
        }
      })()
    } catch (error) {
      throw new LineageError('E_LEDGER', `cannot write the ingest ledger ${this.file}: ${errorMessage(error)}`)
    }
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM files').get() as {n: number}).n
  }

  get location(): string {
    return this.file
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}

function fromRaw(r: RawRow): LedgerRow {
  const graph: GraphStatus = r.graph === 'written' || r.graph === 'failed' ? r.graph : 'off'
  const row: LedgerRow = {
    path: r.path,
    size: r.size,
    mtimeMs: r.mtime_ms,
    contentHash: r.content_hash,
    graph,
    updatedAt: r.updated_at,
  }
  if (r.incomplete > 0) row.incomplete = r.incomplete
  return row
}
