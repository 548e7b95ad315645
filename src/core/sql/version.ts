/**
 * PARSER_VERSION: part of the parse cache key, so it must change whenever extraction output can change.
 * It combines EXTRACTOR_REVISION, bumped by hand with every change to src/core/sql (a test compares a
 * hash of that folder with the one recorded for the current revision and fails, naming the new hash, when
 * they differ), with the installed node-sql-parser version, since a new grammar can change results too.
 */
import {createRequire} from 'node:module'

/** Bump with every change to src/core/sql, then record the new source hash (see the version test). */
export const EXTRACTOR_REVISION = 6

function grammarVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)('node-sql-parser/package.json') as {version?: unknown}
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export const PARSER_VERSION = `lineage-sql/${EXTRACTOR_REVISION}+node-sql-parser/${grammarVersion()}`
