/**
 * A parse cut short by time is not final. How far a file's parse gets within its budget (the soft deadline
 * between statements, or the worker's hard limit LINEAGE_PARSE_TIMEOUT_SECONDS) depends on how busy the machine
 * was, not on the SQL; kept as it is, the graph would depend on the load. Such a lineage is `incomplete` (the
 * output record's `lineage.incomplete`, the SqlFile's `incomplete` property) and the ledger counts how many
 * parses of the file's content in a row ran out of time. Every parse after one gets a longer budget: doubled
 * per attempt, up to MAX_SCALE times the configured one or BUDGET_FLOOR_MS, whichever is more (`parseLimitMs`).
 *
 * Who parses it again: the start-up reconcile (every incomplete row is queued, see reconciler.ts), and a running
 * service once it has been idle for LINEAGE_INCOMPLETE_RETRY_SECONDS, at most once per that many seconds
 * (`startIncompleteRetry`). A file whose parse at the largest budget still ran out is left incomplete (it would
 * only run out again): logged once, counted in `files_incomplete{retry="exhausted"}`, and parsed again only when
 * it changes or at the next start. Throws nothing: a failed round is logged.
 */
import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import type {LedgerRow} from './ledger.js'

/** The longest budget is this many times the configured one... */
export const MAX_SCALE = 8
/** ...or this, when more: a short configured budget (a slow moment's stand-in) still grows to a real one. */
export const BUDGET_FLOOR_MS = 60_000

/** The largest budget a parse is given (ms). */
export function maxLimitMs(baseMs: number): number {
  return Math.max(baseMs * MAX_SCALE, BUDGET_FLOOR_MS)
}

/** The hard limit of a file's next parse (ms), after `incomplete` parses of it in a row ran out of time. */
export function parseLimitMs(baseMs: number, incomplete: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, incomplete), maxLimitMs(baseMs))
}

/** The last parse already had the largest budget and still ran out: no retry while running. */
export function retriesExhausted(baseMs: number, incomplete: number): boolean {
  return incomplete > 0 && parseLimitMs(baseMs, incomplete - 1) >= maxLimitMs(baseMs)
}

/**
 * The ledger's next count for a parse of the file: 0 when complete, else one more for the same content. A
 * parse the pool ended at its hard limit has no content hash (`failed:E_PARSE_TIMEOUT`): it counts as the same
 * content, or files that alternate between the two ways of running out would never get a longer budget.
 */
export function nextIncomplete(
  previous: LedgerRow | undefined,
  now: {contentHash: string; size: number; mtimeMs: number; incomplete: boolean},
): number {
  if (!now.incomplete) return 0
  if (!previous?.incomplete) return 1
  const unread = (hash: string): boolean => hash.startsWith('failed:')
  const same =
    unread(previous.contentHash) ||
    unread(now.contentHash) ||
    (previous.contentHash === now.contentHash && previous.size === now.size && previous.mtimeMs === now.mtimeMs)
  return same ? previous.incomplete + 1 : 1
}

export interface IncompleteRetrySource {
  /** The configured budget (LINEAGE_PARSE_TIMEOUT_SECONDS, ms). */
  baseMs: () => number
  /** Idle this long before a round, and at most one round per this long (ms); 0: only at the next start. */
  intervalMs: () => number
  /** Events queued, parses or graph writes in flight. */
  busy: () => boolean
  stopping: () => boolean
  /** The ledger's incomplete rows. */
  incomplete: () => LedgerRow[]
  queue: (relPath: string) => void
  logger: Logger
  /** Told after each round: files being retried, files left incomplete. */
  report?: (pending: number, exhausted: number) => void
  now?: () => number
}

/** How often the service looks whether it is idle (ms); a round needs the idle interval too. */
const TICK_MS = 1000

/** Start the idle retry; returns the stop function. */
export function startIncompleteRetry(source: IncompleteRetrySource): () => void {
  const now = source.now ?? (() => performance.now())
  let idleSince: number | undefined
  let lastRound = Number.NEGATIVE_INFINITY
  /** `path contentHash` of the files already logged as left incomplete. */
  const reported = new Set<string>()
  const round = (): void => {
    const baseMs = source.baseMs()
    const rows = source.incomplete()
    const pending = rows.filter((r) => !retriesExhausted(baseMs, r.incomplete ?? 0))
    const exhausted = rows.filter((r) => retriesExhausted(baseMs, r.incomplete ?? 0))
    for (const r of exhausted) {
      const key = `${r.path} ${r.contentHash}`
      if (reported.has(key)) continue
      reported.add(key)
      source.logger.warn(
        `${r.path}: still incomplete after ${r.incomplete} parse(s), the last with ${maxLimitMs(baseMs) / 1000} s; ` +
          'left incomplete until it changes or the next start',
        {path: r.path, code: 'E_PARSE_TIMEOUT'},
      )
    }
    source.report?.(pending.length, exhausted.length)
    if (pending.length === 0) return
    source.logger.info(`idle: parsing ${pending.length} incomplete file(s) again with a longer budget`, {
      paths: pending.slice(0, 5).map((r) => r.path),
    })
    for (const r of pending) source.queue(r.path)
  }
  const timer = setInterval(() => {
    const interval = source.intervalMs()
    if (source.stopping() || interval <= 0) return
    if (source.busy()) {
      idleSince = undefined
      return
    }
    const t = now()
    idleSince ??= t
    if (t - idleSince < interval || t - lastRound < interval) return
    lastRound = t
    try {
      round()
    } catch (error) {
      source.logger.error(`retry of incomplete files failed: ${errorMessage(error)}`)
    }
  }, TICK_MS).unref()
  return () => {
    clearInterval(timer)
  }
}
