/**
 * The lineage graph of the embedded default, from the output folder (`OUT/**\/*.lineage.json`), through an
 * index in SQLite so a trace over 10,000 files does not parse them all each time: each `load` lists the
 * folder, stats every record, and re-reads only those added or changed since (by size and mtime), deleting
 * what vanished, in one transaction. The index file is a cache: deleting it costs one full read. An index
 * built for another folder is emptied first. Without an index file the index lives in memory.
 * A record that is not valid is skipped and named in `invalid`. Throws LineageError E_USAGE when the folder
 * does not exist, E_CACHE when the index cannot be opened.
 */
import {mkdirSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'

import {errorMessage, LineageError} from '../errors.js'
import {openDatabase, type Db} from '../util/sqlite.js'
import {type Direction, type LineageEdge, type LineageGraph, type Level, uniqueEdges} from './graph.js'
import {readRecordGraph} from './out-record.js'

const OUTPUT_SUFFIX = '.lineage.json'
/** Bump when what the index stores changes: an older index is rebuilt. */
const INDEX_VERSION = 1

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (rel TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime REAL NOT NULL, valid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (rel TEXT NOT NULL, level TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS edges (rel TEXT NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
  file TEXT NOT NULL, line INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS nodes_name ON nodes (level, name);
CREATE INDEX IF NOT EXISTS nodes_rel ON nodes (rel);
CREATE INDEX IF NOT EXISTS edges_target ON edges (level, target);
CREATE INDEX IF NOT EXISTS edges_source ON edges (level, source);
CREATE INDEX IF NOT EXISTS edges_file ON edges (level, file);
CREATE INDEX IF NOT EXISTS edges_rel ON edges (rel);`

interface EdgeRow {
  source: string
  target: string
  file: string
  line: number
}

export interface LoadOptions {
  /** SQLite file for the index; undefined: in memory (rebuilt on every load). */
  indexFile?: string | undefined
}

export class OutputGraph implements LineageGraph {
  readonly backend = 'output' as const
  /** Output files skipped as unreadable or not output records, relative to the folder. */
  readonly invalid: string[] = []
  /** Valid output records in the folder. */
  files = 0
  /** Records read on this load (the rest came from the index). */
  reread = 0

  private constructor(private readonly db: Db) {}

  static load(outDir: string, options: LoadOptions = {}): OutputGraph {
    if (!isDirectory(outDir)) {
      throw new LineageError(
        'E_USAGE',
        `output folder ${outDir} does not exist`,
        'Pass the folder `lineage watch` writes (LINEAGE_OUT_DIR), or set NEO4J_URI to read the graph.',
      )
    }
    const graph = new OutputGraph(openIndex(options.indexFile))
    try {
      graph.refresh(resolve(outDir))
    } catch (error) {
      graph.db.close()
      throw error
    }
    return graph
  }

  private refresh(outDir: string): void {
    const db = this.db
    const meta = (key: string): string | undefined =>
      (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as {value: string} | undefined)?.value
    const listed = readdirSync(outDir, {recursive: true, encoding: 'utf8'}).filter((e) => e.endsWith(OUTPUT_SUFFIX))
    const known = new Map(
      (db.prepare('SELECT rel, size, mtime, valid FROM records').all() as RecordRow[]).map((r) => [r.rel, r]),
    )
    const sameFolder = meta('outDir') === outDir && meta('version') === String(INDEX_VERSION)
    const forget = (rel: string): void => {
      for (const table of ['records', 'nodes', 'edges']) db.prepare(`DELETE FROM ${table} WHERE rel = ?`).run(rel)
    }
    const insertNode = db.prepare('INSERT INTO nodes (rel, level, name) VALUES (?, ?, ?)')
    const insertEdge = db.prepare(
      'INSERT INTO edges (rel, level, source, target, file, line) VALUES (?, ?, ?, ?, ?, ?)',
    )
    const insertRecord = db.prepare('INSERT INTO records (rel, size, mtime, valid) VALUES (?, ?, ?, ?)')
    db.transaction(() => {
      if (!sameFolder) {
        for (const table of ['records', 'nodes', 'edges']) db.prepare(`DELETE FROM ${table}`).run()
        known.clear()
        db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?), (?, ?)').run(
          'outDir',
          outDir,
          'version',
          String(INDEX_VERSION),
        )
      }
      const present = new Set<string>()
      for (const rel of listed.sort()) {
        const st = statOf(join(outDir, rel))
        if (!st) continue
        present.add(rel)
        const row = known.get(rel)
        if (row?.size === st.size && row.mtime === st.mtimeMs) {
          if (row.valid === 1) this.files++
          else this.invalid.push(rel)
          continue
        }
        if (row) forget(rel)
        this.reread++
        const record = readRecordGraph(join(outDir, rel))
        insertRecord.run(rel, st.size, st.mtimeMs, record ? 1 : 0)
        if (!record) {
          this.invalid.push(rel)
          continue
        }
        this.files++
        for (const name of record.tables) insertNode.run(rel, 'table', name)
        for (const name of record.columns) insertNode.run(rel, 'column', name)
        for (const e of record.tableEdges) insertEdge.run(rel, 'table', e.source, e.target, e.file, e.line)
        for (const e of record.columnEdges) insertEdge.run(rel, 'column', e.source, e.target, e.file, e.line)
      }
      for (const rel of known.keys()) if (!present.has(rel)) forget(rel)
    })()
  }

  kindOf(name: string): Promise<Level | undefined> {
    const has = (level: Level): boolean =>
      this.db.prepare('SELECT 1 FROM nodes WHERE level = ? AND name = ? LIMIT 1').get(level, name) !== undefined
    return Promise.resolve(has('table') ? 'table' : has('column') ? 'column' : undefined)
  }

  edges(level: Level, names: readonly string[], direction: Direction): Promise<LineageEdge[]> {
    const by = direction === 'upstream' ? 'target' : 'source'
    const query = this.db.prepare(`SELECT source, target, file, line FROM edges WHERE level = ? AND ${by} = ?`)
    return Promise.resolve(uniqueEdges(names.flatMap((n) => query.all(level, n) as EdgeRow[])))
  }

  names(level: Level): Promise<string[]> {
    const rows = this.db.prepare('SELECT DISTINCT name FROM nodes WHERE level = ?').all(level) as {name: string}[]
    return Promise.resolve(rows.map((r) => r.name).sort())
  }

  fileEdges(level: Level, files: readonly string[]): Promise<Map<string, LineageEdge[]>> {
    const query = this.db.prepare('SELECT source, target, file, line FROM edges WHERE level = ? AND file = ?')
    return Promise.resolve(new Map(files.map((f) => [f, uniqueEdges(query.all(level, f) as EdgeRow[])])))
  }

  close(): Promise<void> {
    this.db.close()
    return Promise.resolve()
  }
}

interface RecordRow {
  rel: string
  size: number
  mtime: number
  valid: number
}

function openIndex(file: string | undefined): Db {
  try {
    if (file !== undefined) mkdirSync(dirname(file), {recursive: true})
    const db = openDatabase(file ?? ':memory:')
    if (file !== undefined) {
      db.pragma('journal_mode = WAL')
      db.pragma('busy_timeout = 5000')
    }
    db.exec(SCHEMA)
    return db
  } catch (error) {
    throw new LineageError(
      'E_CACHE',
      `cannot open the trace index ${file ?? ''}: ${errorMessage(error)}`,
      'Delete the index file: it is rebuilt from the output folder.',
    )
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function statOf(path: string): {size: number; mtimeMs: number} | undefined {
  try {
    const st = statSync(path)
    return st.isFile() ? {size: st.size, mtimeMs: st.mtimeMs} : undefined
  } catch {
    return undefined
  }
}
