/**
 * One parse cache entry as it is stored: the 32-byte key that names it, its payload, a file's lineage as
 * JSON without its path (the same content may live at several paths), and the payload's checksum. Pure;
 * throws nothing.
 */
import {createHash} from 'node:crypto'

import type {FileLineage} from '../types.js'

export interface CacheKey {
  /** Hex sha256 of the file's bytes. */
  contentHash: string
  parserVersion: string
  dialect: string
  /** Hash of template variables and schema; '' (or absent) when there are none. */
  variant?: string
}

export interface CacheEntry {
  key: CacheKey
  lineage: FileLineage
}

export type CachedLineage = Omit<FileLineage, 'path'>

/** The 32-byte key of an entry: sha256 over the parts, unambiguously joined. */
export function cacheKeyBytes(key: CacheKey): Buffer {
  const parts = JSON.stringify([key.contentHash, key.parserVersion, key.dialect, key.variant ?? ''])
  return createHash('sha256').update(parts).digest()
}

/**
 * The checksum stored with an entry: sha256 over the key and the payload's exact bytes. SQLite's own checks
 * catch damaged pages, not a well-formed change of the payload (one letter of a table name for another); this
 * does. The key is included so a payload copied under another key, with its checksum, fails too.
 */
export function payloadChecksum(key: Buffer, payload: Buffer): Buffer {
  return createHash('sha256').update(key).update(payload).digest()
}

/** Whether a stored payload still has the checksum written with it. */
export function checksumMatches(key: Buffer, payload: Buffer, checksum: Buffer): boolean {
  return payloadChecksum(key, payload).equals(checksum)
}

/** Parse a stored entry; undefined for anything that is not lineage (then it counts as a miss). */
export function parseStored(text: string): CachedLineage | undefined {
  try {
    const value: unknown = JSON.parse(text)
    const v = value as Partial<CachedLineage> | null
    return typeof v === 'object' && v !== null && Array.isArray(v.statements) && typeof v.status === 'string'
      ? (v as CachedLineage)
      : undefined
  } catch {
    return undefined
  }
}
