/**
 * The SQLite file underneath the parse cache: opening a connection (WAL, synchronous NORMAL, busy timeout),
 * the schema, recognising corruption, the identity (device and inode) of the file, and moving a damaged
 * file aside. Shared by ParseCache and the `cache` commands; nothing here keeps state between calls.
 *
 * Throws: `openCacheDb` throws what SQLite throws (SqliteError: SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_BUSY,
 * ...) and LineageError E_CACHE for a file that is not a lineage parse cache or has a schema this version
 * does not know; `moveAside` throws the file system's error when the file can be neither moved nor removed.
 */
import {closeSync, mkdirSync, openSync, readSync, statSync} from 'node:fs'
import {dirname} from 'node:path'

import {
  fileIdentity,
  type FileIdentity,
  openDatabase,
  type Db,
  type Statement,
  type Transaction,
} from '../util/sqlite.js'

export {
  fileIdentity,
  type FileIdentity,
  moveAside,
  type MoveOutcome,
  removeSidecars,
  sameIdentity,
} from '../util/sqlite.js'

import {LineageError} from '../errors.js'

export type {Db}

/** "LNPC" in the SQLite header: marks the file as ours, so a mistyped path never alters someone else's database. */
export const APPLICATION_ID = 0x4c4e5043
/**
 * 2: every entry carries a checksum of its payload. A version-1 file is migrated by dropping its entries:
 * they have no checksum, and computing one now would bless whatever the payload holds today, including a
 * change made since it was written. Its files are parsed once more instead.
 */
export const SCHEMA_VERSION = 2
/** Versions a cache migrates from (by dropping their entries); `cache stats` still reads them. */
export const LEGACY_VERSIONS: readonly number[] = [1]
/** Long enough for a `cache clear` or another worker's batch of puts to finish, short enough not to stall ingestion. */
export const BUSY_TIMEOUT_MS = 5000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  parser_version TEXT NOT NULL,
  dialect TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  lineage TEXT NOT NULL,
  checksum BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_key ON entries (key);
CREATE INDEX IF NOT EXISTS entries_stats ON entries (parser_version, dialect, created_at);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/** SQLITE_CORRUPT (any extended code) or SQLITE_NOTADB: the file is damaged, not merely busy or unwritable. */
export function isCorruption(error: unknown): boolean {
  const code = (error as {code?: unknown} | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'))
}

/** The error SQLite gives for a file without its header, for a header SQLite has not read yet. */
export function notADatabase(): Error {
  return Object.assign(new Error('file is not a database (it does not start with a SQLite header)'), {
    code: 'SQLITE_NOTADB',
  })
}

/** The error's SQLite or errno code, for telling kinds of failure apart. */
export function errorCode(error: unknown): string {
  const code = (error as {code?: unknown} | null)?.code
  return typeof code === 'string' ? code : 'unknown'
}

/**
 * False when the file has content that does not start with SQLite's magic string: it was overwritten.
 * SQLite itself may not notice while every page it needs is in its cache or the WAL.
 */
export function hasSqliteHeader(file: string): boolean {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const head = Buffer.alloc(SQLITE_MAGIC.length)
    const n = readSync(fd, head, 0, head.length, 0)
    return n < head.length || head.equals(SQLITE_MAGIC)
  } catch {
    return true // gone or unreadable: the identity check and SQLite report that
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export type Row = [
  key: Buffer,
  parserVersion: string,
  dialect: string,
  createdAt: number,
  lineage: string,
  checksum: Buffer,
]

/** An entry as read back: the payload's exact stored bytes and the checksum written with it. */
export interface StoredEntry {
  bytes: Buffer
  checksum: Buffer
}

export interface Connection {
  db: Db
  identity: FileIdentity | undefined
  select: Statement<[Buffer], StoredEntry>
  upsert: Statement<Row>
  /** Delete the entry under a key only while it still holds these bytes (another writer may have fixed it). */
  dropEntry: Statement<[Buffer, Buffer]>
  putRows: Transaction<(rows: Row[]) => void>
  addCounters: Transaction<(hits: number, misses: number) => void>
}

/** The statements one ParseCache runs, prepared once per connection. */
export function prepareConnection(db: Db, file: string): Connection {
  const upsert = db.prepare<Row>(
    `INSERT INTO entries (key, parser_version, dialect, created_at, lineage, checksum) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET lineage = excluded.lineage, checksum = excluded.checksum,
       created_at = excluded.created_at`,
  )
  const increment = db.prepare<[number, string]>('UPDATE counters SET value = value + ? WHERE name = ?')
  return {
    db,
    identity: fileIdentity(file),
    // The blob cast hands over the stored bytes as they are, so the checksum is over exactly what was written.
    select: db.prepare<[Buffer], StoredEntry>(
      'SELECT CAST(lineage AS BLOB) AS bytes, checksum FROM entries WHERE key = ?',
    ),
    upsert,
    dropEntry: db.prepare<[Buffer, Buffer]>('DELETE FROM entries WHERE key = ? AND CAST(lineage AS BLOB) = ?'),
    putRows: db.transaction((rows: Row[]) => {
      for (const row of rows) upsert.run(...row)
    }),
    addCounters: db.transaction((hits: number, misses: number) => {
      increment.run(hits, 'hits')
      increment.run(misses, 'misses')
    }),
  }
}

export interface OpenOptions {
  /** Create the file and the schema when missing (the cache itself); false for stats and checks. */
  create: boolean
  timeoutMs?: number
  /** Start of the hit and miss counters of a new file (ms since the epoch). */
  now?: number
}

/** Open a connection with the cache's settings; on a new file, create the schema. */
export function openCacheDb(file: string, options: OpenOptions): Db {
  if (options.create) mkdirSync(dirname(file), {recursive: true})
  // With the pages SQLite needs in the WAL, it would read an overwritten file without noticing.
  if (!hasSqliteHeader(file)) throw notADatabase()
  const db = openDatabase(file, {timeout: options.timeoutMs ?? BUSY_TIMEOUT_MS, fileMustExist: !options.create})
  try {
    // Reads page 1 first, so a damaged header surfaces here as SQLITE_NOTADB, before anything is written.
    const state = schemaState(db)
    if (!options.create) return db
    if (state !== 'ours' && state !== 'empty' && !isLegacy(state)) throw notOurs(file, state)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    if (state !== 'ours') createSchema(db, file, options.now ?? Date.now())
    return db
  } catch (error) {
    closeQuietly(db)
    throw error
  }
}

/** A schema of an earlier lineage, which this one migrates (see SCHEMA_VERSION). */
export function isLegacy(state: SchemaState): boolean {
  return state.startsWith('version ') && LEGACY_VERSIONS.includes(Number(state.slice(8)))
}

/**
 * Several workers may open a new (or legacy) file at once: the check and the creation are one write
 * transaction. A legacy file keeps its counters and loses its entries (see SCHEMA_VERSION for why).
 */
function createSchema(db: Db, file: string, now: number): void {
  db.transaction(() => {
    const state = schemaState(db)
    if (state === 'ours') return
    if (isLegacy(state)) db.exec('DROP TABLE IF EXISTS entries')
    else if (state !== 'empty') throw notOurs(file, state)
    db.exec(SCHEMA)
    db.prepare(`INSERT OR IGNORE INTO counters (name, value) VALUES ('hits', 0), ('misses', 0), ('since', ?)`).run(now)
    db.pragma(`application_id = ${APPLICATION_ID}`)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  }).immediate()
}

export type SchemaState = 'ours' | 'empty' | 'foreign' | `version ${number}`

/**
 * One statement, so one snapshot: read as separate statements, another process's schema creation could
 * commit between them (application id 0 read before, its tables counted after) and a new cache would be
 * taken for someone else's database.
 */
export function schemaState(db: Db): SchemaState {
  const row = db
    .prepare<[], {appId: number; version: number; tables: number}>(
      `SELECT (SELECT application_id FROM pragma_application_id) AS appId,
              (SELECT user_version FROM pragma_user_version) AS version,
              (SELECT count(*) FROM sqlite_schema WHERE type = 'table') AS tables`,
    )
    .get()
  if (row === undefined) throw new Error('SQLite returned no row for the schema query')
  const {appId, version, tables} = row
  if (appId === APPLICATION_ID) return version === SCHEMA_VERSION ? 'ours' : `version ${version}`
  return appId === 0 && tables === 0 ? 'empty' : 'foreign'
}

export function notOurs(file: string, state: Exclude<SchemaState, 'ours' | 'empty'>): LineageError {
  const what =
    state === 'foreign'
      ? 'is a SQLite database but not a lineage parse cache'
      : `has parse cache schema ${state.slice(8)}, this lineage knows ${SCHEMA_VERSION}`
  return new LineageError(
    'E_CACHE',
    `${file} ${what}; it was left untouched`,
    'Point LINEAGE_CACHE_FILE at another file, or remove this one if it is a stale cache.',
  )
}

export function closeQuietly(db: Db | undefined): void {
  try {
    db?.close()
  } catch {
    // Closing a damaged database can fail; the handle is released either way.
  }
}

/** Bytes of the database file and its WAL (0 for a missing file). */
export function diskSize(file: string): {dbBytes: number; walBytes: number} {
  const size = (f: string): number => {
    try {
      return statSync(f).size
    } catch {
      return 0
    }
  }
  return {dbBytes: size(file), walBytes: size(`${file}-wal`)}
}
