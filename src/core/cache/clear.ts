/**
 * `cache clear`: empty the parse cache file from any process while a running `watch` may have it open. A
 * healthy file is emptied in place, a damaged one removed and recreated. Throws LineageError E_CACHE when the
 * file cannot be emptied or removed (or is not a parse cache).
 */
import {rmSync} from 'node:fs'

import {errorMessage, isLineageError, LineageError} from '../errors.js'
import {closeQuietly, diskSize, fileIdentity, isCorruption, openCacheDb, removeSidecars, sameIdentity} from './db.js'

export interface ClearResult {
  file: string
  /** emptied in place; recreated (the file was damaged, so it was removed); missing (nothing to clear). */
  action: 'emptied' | 'recreated' | 'missing'
  /** Entries removed; null when the file was too damaged to count them. */
  entries: number | null
  bytesBefore: number
  bytesAfter: number
  bytesFreed: number
  /** Why the file was recreated. */
  reason: string | null
}

/**
 * Empty the cache. A healthy file is emptied in place (entries deleted, counters reset, VACUUM), so a
 * running watcher's connection stays valid; a damaged one is removed and recreated empty, and watchers
 * reopen it within about a second.
 */
export function clearCache(file: string, now: Date = new Date()): ClearResult {
  const size = (): number => {
    const {dbBytes, walBytes} = diskSize(file)
    return dbBytes + walBytes
  }
  const bytesBefore = size()
  const identity = fileIdentity(file)
  const result = (action: ClearResult['action'], entries: number | null, reason: string | null): ClearResult => {
    const bytesAfter = size()
    return {file, action, entries, bytesBefore, bytesAfter, bytesFreed: Math.max(0, bytesBefore - bytesAfter), reason}
  }
  if (identity === undefined) return result('missing', 0, null)
  try {
    return result('emptied', emptyInPlace(file, now.getTime()), null)
  } catch (error) {
    if (isLineageError(error)) throw error
    if (!isCorruption(error)) throw clearFailed(file, error)
    try {
      // Leave a file someone else (a watcher's own recovery) has already put in its place.
      if (sameIdentity(fileIdentity(file), identity)) {
        rmSync(file, {force: true})
        removeSidecars(file)
      }
      closeQuietly(openCacheDb(file, {create: true, now: now.getTime()}))
    } catch (error2) {
      throw isLineageError(error2) ? error2 : clearFailed(file, error2)
    }
    return result('recreated', null, errorMessage(error))
  }
}

function emptyInPlace(file: string, now: number): number {
  const db = openCacheDb(file, {create: true, now})
  try {
    const removed = db
      .transaction(() => {
        const n = db.prepare('DELETE FROM entries').run().changes
        db.prepare(`UPDATE counters SET value = CASE name WHEN 'since' THEN ? ELSE 0 END`).run(now)
        return n
      })
      .immediate()
    try {
      // Give the space back; best effort, since a busy watcher may hold the write lock past the timeout.
      db.exec('VACUUM')
      db.pragma('wal_checkpoint(TRUNCATE)')
    } catch (error) {
      if (isCorruption(error)) throw error
    }
    return removed
  } finally {
    closeQuietly(db)
  }
}

function clearFailed(file: string, error: unknown): LineageError {
  return new LineageError(
    'E_CACHE',
    `cannot clear the parse cache ${file}: ${errorMessage(error)}`,
    'If a watcher holds it busy, run the command again; otherwise check the file and folder permissions.',
  )
}
