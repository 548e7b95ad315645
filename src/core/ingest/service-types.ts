/** The service's public types: how to start it, its handle while it runs, and what it returns when it stops. */
import type {LogLevel} from '../logger.js'
import type {Settings, SettingsInput} from '../ops/settings.js'
import type {IngestStats} from './ingestor.js'
import type {IngestObserver} from './observer.js'

export interface ServiceOptions {
  settings: SettingsInput
  /** Ingest the folder as it is, then stop (no watcher). */
  once: boolean
  poll: boolean
  settleMs: number
  /** Ignore the ledger: ingest every file again. */
  reingest: boolean
  /** Apply a reconcile's retractions even when they are more than LINEAGE_MASS_RETRACT_SHARE of the folder. */
  allowMassRetract?: boolean
  logLevel: LogLevel
  /** Readable log lines (stderr in the CLI); the structured log goes to the configured log file. */
  stream?: NodeJS.WritableStream
  /** How often the override state is checked (ms). */
  flagPollMs?: number
  /** Told of every file as it is parsed, written and recorded (besides the service's own metrics). */
  observer?: IngestObserver
  /** Serve /metrics and /healthz (default true). A one-off `--once` run beside the service serves none. */
  serveMetrics?: boolean
  /** A graph write with no answer for this long makes /healthz degraded (ms; default 30 s, WRITE_HUNG_MS). */
  graphHungMs?: number
}

export interface RunSummary {
  files: number
  statements: number
  failed: number
  unchanged: number
  removed: number
  graphFailures: number
  /** Batches that failed as a whole (a ledger or state write refused, a bug): their files are queued again
   * by a running service, and ingested again at the next start. The first such failure's message names the path and the reason. */
  batchErrors: number
  firstBatchError: string | null
  /** The `.lineage.json` files ignored as not valid at stop (their folders' files took the defaults above). */
  ignoredFolderSettings: string[]
  seconds: number
  stats: IngestStats
}

export interface ServiceHandle {
  /** The settings in effect now (operator overrides applied as they change). */
  readonly settings: Settings
  readonly stats: IngestStats
  /** The port metrics and /healthz listen on, or undefined when none. */
  readonly metricsPort: number | undefined
  /** Files the start-up reconcile queued. */
  readonly reconciled: number
  /** Resolves when the service has stopped (after --once finishes, or after stop()). */
  readonly done: Promise<RunSummary>
  /** Events waiting plus parses in flight. */
  queueSize(): number
  /** Reopen the log file at its path (SIGHUP after logrotate moved it). */
  reopenLog(): void
  stop(): Promise<RunSummary>
}
