/**
 * The one place better-sqlite3 is loaded. Two builds of it are installed, because no single major runs on
 * every Node we support:
 * - better-sqlite3 12 (package `better-sqlite3`, compiled on install) wraps its objects with the legacy
 *   `node::ObjectWrap`. From Node 24.19 on, that destructor asserts that a Node environment is current, so a
 *   Statement finalized by an idle GC or at worker exit aborts the process (SIGABRT, exit 134:
 *   "Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook; nodejs/node#65446,
 *   WiseLibs/better-sqlite3#1515).
 * - better-sqlite3 13 (package alias `better-sqlite3-napi`, N-API prebuilds shipped in the package) is built on
 *   node-addon-api and does not have that problem, but it needs Node 22 and segfaults on Node 20.
 * So Node 20 loads 12 and Node 22+ loads 13. Their JavaScript API is the same for everything used here.
 */
import type BetterSqlite3 from 'better-sqlite3'
import {renameSync, rmSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

/** The package this Node loads: the N-API build from Node 22 on, the ObjectWrap build before. */
export const SQLITE_PACKAGE = sqlitePackageFor(process.versions.node)

export function sqlitePackageFor(nodeVersion: string): 'better-sqlite3' | 'better-sqlite3-napi' {
  return Number(nodeVersion.split('.')[0]) >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3'
}

let loaded: typeof BetterSqlite3 | undefined

/**
 * Open a database file. The native module loads on the first call, not at import: commands that never
 * touch SQLite (rollback, flags) start without it.
 */
export function openDatabase(file: string, options?: BetterSqlite3.Options): Db {
  loaded ??= require(SQLITE_PACKAGE) as typeof BetterSqlite3
  return new loaded(file, options)
}

/** An open connection. */
export type Db = BetterSqlite3.Database
export type Statement<P extends unknown[] | object = unknown[], R = unknown> = BetterSqlite3.Statement<P, R>
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- better-sqlite3's own bound for a transaction body
export type Transaction<F extends (...params: any[]) => unknown> = BetterSqlite3.Transaction<F>

// ---- a database file: its identity, and moving a damaged one aside --------------------------------------

export interface FileIdentity {
  dev: number
  ino: number
}

/** Device and inode of the file at `file`, or undefined when there is none. */
export function fileIdentity(file: string): FileIdentity | undefined {
  try {
    const st = statSync(file)
    return {dev: st.dev, ino: st.ino}
  } catch {
    return undefined
  }
}

export function sameIdentity(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  if (a === undefined || b === undefined) return false
  return a.dev === b.dev && a.ino === b.ino
}

/** `20260102T030405Z`: a UTC timestamp that sorts and is safe in file names. */
export function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

/**
 * Move a damaged database file (with its -wal and -shm) to `<file>.corrupt-<UTC timestamp>`, or remove it
 * when it cannot be moved. Does nothing when the file at the path is no longer `expected` (another worker
 * or `cache clear` has already dealt with it).
 */
export function moveAside(file: string, expected: FileIdentity | undefined, now: Date): MoveOutcome {
  const current = fileIdentity(file)
  if (current === undefined || (expected !== undefined && !sameIdentity(current, expected))) return {kind: 'replaced'}
  let target = `${file}.corrupt-${fileTimestamp(now)}`
  for (let i = 1; fileIdentity(target) !== undefined; i++) target = `${file}.corrupt-${fileTimestamp(now)}-${i}`
  try {
    renameSync(file, target)
  } catch {
    // Renaming can fail where removing works (a target we may not create); if both fail, this throws.
    rmSync(file, {force: true})
    removeSidecars(file)
    return {kind: 'removed'}
  }
  for (const suffix of ['-wal', '-shm']) {
    try {
      renameSync(`${file}${suffix}`, `${target}${suffix}`)
    } catch {
      rmSync(`${file}${suffix}`, {force: true})
    }
  }
  return {kind: 'moved', to: target}
}

export type MoveOutcome = {kind: 'moved'; to: string} | {kind: 'removed'} | {kind: 'replaced'}

/** Remove the -wal and -shm files of a database that is gone, so a new file never replays a stale WAL. */
export function removeSidecars(file: string): void {
  for (const suffix of ['-wal', '-shm']) rmSync(`${file}${suffix}`, {force: true})
}
