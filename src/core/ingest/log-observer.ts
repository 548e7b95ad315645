/**
 * The ingestor's reports, as log lines: what an operator tailing logs/ingestion.log sees (the runbook's
 * verification drops a test file and watches for it there).
 *
 * - one `info` line per file event once it is recorded: path, statements, tables read and written, ms from the
 *   event, cache hit, and the graph outcome (written, failed: kept for retry-failed, off: embedded default);
 * - one `info` line per batch;
 * - one `warn` line per degraded statement (fell back to the token scan, or failed) with its line number, at
 *   parse time, so a file stored with status `ok` that lost lineage in one statement still shows.
 * Failures of whole files are logged by the ingestor (file-outcomes.ts) at `error`, once per distinct failure.
 * Unchanged files (a touch) are `debug`. Never throws: logging is the logger's contract.
 */
import type {Logger} from '../logger.js'
import type {IngestObserver} from './observer.js'

interface Parsed {
  /** Batch ends seen before this file was parsed. */
  seen: number
  statements: number
  tablesRead: number
  tablesWritten: number
  cacheHit: boolean
  status: string
}

const STALE_AFTER = 4

export function logObserver(logger: Logger): IngestObserver {
  // Files parsed, until recorded. Not cleared at a batch's end: with parse-ahead (FEATURE_PARALLEL) the next
  // batches are parsed while one is written, and clearing logged their files as "unchanged". A file's outcome
  // is recorded before its batch ends, at most PARSE_AHEAD (2) batch ends after its parse, so an entry that
  // has seen STALE_AFTER ends was never recorded (its batch failed as a whole) and goes.
  const parsed = new Map<string, Parsed>()
  let ends = 0
  return {
    fileParsed: (e) => {
      parsed.delete(e.relPath)
      parsed.set(e.relPath, {
        seen: ends,
        statements: e.statements,
        tablesRead: e.lineage?.sources.length ?? 0,
        tablesWritten: e.lineage?.targets.length ?? 0,
        cacheHit: e.cacheHit,
        status: e.status,
      })
      for (const s of e.lineage?.statements ?? []) {
        if (s.status !== 'fallback' && s.status !== 'failed') continue
        const what = s.status === 'fallback' ? 'fell back to the token scan' : 'failed'
        logger.warn(`${e.relPath}:${s.line}: ${s.kind} statement ${what}${s.error ? `: ${s.error.message}` : ''}`, {
          path: e.relPath,
          line: s.line,
          status: s.status,
          ...(s.error ? {code: s.error.code} : {}),
        })
      }
    },
    fileRecorded: (e) => {
      const ms = Math.round(e.latencyMs)
      if (!e.row) {
        logger.info(`removed ${e.relPath}`, {path: e.relPath, ms})
        return
      }
      const p = parsed.get(e.relPath)
      if (!p) {
        logger.debug(`unchanged ${e.relPath}`, {path: e.relPath, ms})
        return
      }
      parsed.delete(e.relPath)
      logger.info(`ingested ${e.relPath}`, {
        path: e.relPath,
        status: p.status,
        statements: p.statements,
        tablesRead: p.tablesRead,
        tablesWritten: p.tablesWritten,
        ms,
        cacheHit: p.cacheHit,
        graph: e.row.graph,
      })
    },
    graphWritten: (e) => {
      logger.debug(`graph write: ${Math.round(e.seconds * 1000)} ms, ${e.transactions} transaction(s)`, {
        ms: Math.round(e.seconds * 1000),
        transactions: e.transactions,
        failures: e.failures,
      })
    },
    batchDone: (e) => {
      ends++
      // Oldest first (Map order is insertion order, and a parse re-inserts), so stop at the first young one.
      for (const [path, p] of parsed) {
        if (ends - p.seen < STALE_AFTER) break
        parsed.delete(path)
      }
      logger.info(`batch of ${e.files} file(s) done in ${Math.round(e.seconds * 1000)} ms`, {
        files: e.files,
        ms: Math.round(e.seconds * 1000),
      })
    },
  }
}
