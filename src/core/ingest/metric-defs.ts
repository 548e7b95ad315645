/**
 * The service's Prometheus instruments: names, help, labels and buckets, and which registry each lives in.
 *
 * Two registries. `signals` holds what the runbook's "Monitoring During Rollback" section tells the operator
 * to watch (files_processed_total, files_failed_total, queue_size, batch_processing_duration_seconds), the failed-ingestion backlog the alerts
 * read, and the control plane (feature_flag_enabled, the applied flag revision, lineage_up): it is collected and served
 * whatever FEATURE_METRICS says, because a rollback is exactly when the operator watches queue_size fall.
 * `detail` holds the costly rest (the per-file latency histogram, Neo4j write histogram, cache and statement
 * counters, the failure breakdown, default process metrics) and is collected only with FEATURE_METRICS on.
 *
 * The runbook's ratio rate(files_failed_total[1m]) / rate(files_processed_total[1m]) only matches when both
 * sides carry the same labels, so both runbook counters are unlabeled; the reason breakdown is a separate
 * counter, files_failed_by_reason_total{reason}, whose reasons are a fixed set pre-initialised at 0 (rate()
 * sees a series' first increase only when the series existed before it).
 */
import type {Counter, Gauge, Histogram, Registry} from 'prom-client'

/** Why a file failed, as a small fixed label set (never a path, never a free message). */
export const FAILURE_REASONS = [
  'parse',
  'read',
  'too_large',
  'not_text',
  'timeout',
  'worker',
  'graph',
  'other',
] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]

const REASON_BY_CODE: Record<string, FailureReason> = {
  E_PARSE: 'parse',
  E_TEMPLATE: 'parse',
  E_FILE_READ: 'read',
  E_FILE_TOO_LARGE: 'too_large',
  E_NOT_TEXT: 'not_text',
  E_PARSE_TIMEOUT: 'timeout',
  E_WORKER_CRASHED: 'worker',
  E_PARSE_BUDGET: 'timeout',
}

/** The label for an error code from the catalogue; codes not listed count as `other`. */
export function failureReason(code: string): FailureReason {
  return REASON_BY_CODE[code] ?? 'other'
}

/** Statement statuses that lost lineage: the token-scan fallback, or nothing at all. */
export const DEGRADED_STATUSES = ['fallback', 'failed'] as const

export interface Instruments {
  // signals: always collected
  processed: Counter
  failed: Counter
  batchDuration: Histogram
  queue: Gauge
  flags: Gauge<'feature'>
  revision: Gauge
  backlog: Gauge
  incomplete: Gauge<'retry'>
  // detail: FEATURE_METRICS only
  parsed: Counter
  failedByReason: Counter<'reason'>
  statements: Counter
  degraded: Counter<'status'>
  latency: Histogram
  cacheHits: Counter
  cacheMisses: Counter
  cacheCorruptions: Counter
  cacheBadEntries: Counter
  neo4jDuration: Histogram
  neo4jFailures: Counter
  neo4jTransactions: Counter
  workerRestarts: Counter
  overBudget: Counter
  workers: Gauge
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export function createInstruments(
  prom: typeof import('prom-client'),
  signals: Registry,
  detail: Registry,
): Instruments {
  const s = [signals]
  const d = [detail]
  const counter = (name: string, help: string, registers: Registry[]): Counter =>
    new prom.Counter({name, help, registers})
  const histogram = (name: string, help: string, registers: Registry[]): Histogram =>
    new prom.Histogram({name, help, buckets: BUCKETS, registers})
  const i: Instruments = {
    processed: counter('files_processed_total', 'File events done and recorded (graph written or kept for retry)', s),
    failed: counter('files_failed_total', 'Files that failed: unreadable, unparseable, or their graph write failed', s),
    batchDuration: histogram('batch_processing_duration_seconds', 'Time of one batch, parse to recorded', s),
    queue: new prom.Gauge({name: 'queue_size', help: 'File events waiting to be processed', registers: s}),
    flags: new prom.Gauge({
      name: 'feature_flag_enabled',
      help: 'Whether a feature is on (1) or rolled back (0)',
      labelNames: ['feature'],
      registers: s,
    }),
    revision: new prom.Gauge({
      name: 'lineage_flag_state_revision',
      help: 'Revision of the operator flag state this service has applied',
      registers: s,
    }),
    backlog: new prom.Gauge({
      name: 'failed_ingestion_backlog',
      help: 'Entries in the failed-ingestion file waiting for retry-failed',
      registers: s,
    }),
    incomplete: new prom.Gauge({
      name: 'files_incomplete',
      help: 'Files whose parse ran out of time: retry pending (parsed again when idle), or exhausted (left as is)',
      labelNames: ['retry'],
      registers: s,
    }),
    parsed: counter('files_parsed_total', 'Files parsed or found in the parse cache', d),
    failedByReason: new prom.Counter({
      name: 'files_failed_by_reason_total',
      help: 'Files that failed, by reason',
      labelNames: ['reason'],
      registers: d,
    }),
    statements: counter('statements_processed_total', 'SQL statements parsed', d),
    degraded: new prom.Counter({
      name: 'statements_degraded_total',
      help: 'Statements that lost lineage: fell back to the token scan, or failed',
      labelNames: ['status'],
      registers: d,
    }),
    latency: histogram('file_ingest_latency_seconds', 'Time from a file event to its lineage recorded', d),
    cacheHits: counter('parse_cache_hits_total', 'Parse cache hits', d),
    cacheMisses: counter('parse_cache_misses_total', 'Parse cache misses', d),
    cacheCorruptions: counter('parse_cache_corruptions_total', 'Corrupt parse cache files moved aside', d),
    // Apart from the files above: one entry changed inside a sound file, dropped while the file stays in use.
    cacheBadEntries: counter(
      'parse_cache_corrupt_entries_total',
      'Parse cache entries that failed their checksum, dropped and parsed again',
      d,
    ),
    neo4jDuration: histogram('neo4j_write_duration_seconds', 'Time of one graph write call', d),
    neo4jFailures: counter('neo4j_write_failures_total', 'Graph writes that failed after retries', d),
    neo4jTransactions: counter('neo4j_transactions_total', 'Neo4j write transactions', d),
    workerRestarts: counter('worker_restarts_total', 'Parse workers replaced after a crash or timeout', d),
    overBudget: counter(
      'statements_over_budget_total',
      'Statements stopped at the statement budget: worker replaced, file parsed again with them token-scanned',
      d,
    ),
    workers: new prom.Gauge({name: 'ingest_workers', help: 'Parse workers running', registers: d}),
  }
  for (const reason of FAILURE_REASONS) i.failedByReason.inc({reason}, 0)
  for (const status of DEGRADED_STATUSES) i.degraded.inc({status}, 0)
  for (const retry of ['pending', 'exhausted']) i.incomplete.set({retry}, 0)
  new prom.Gauge({name: 'lineage_up', help: 'The ingestion service is running', registers: s}).set(1)
  return i
}
