/**
 * The public surface of the core library: what a program embedding lineage needs, and all the commands may
 * import (an eslint rule enforces it). Nothing in the core imports @oclif/core, writes to stdout or calls
 * process.exit. Importing this file stays cheap: the service, verify and the graph writer load on first use
 * (their functions here are async for that reason), better-sqlite3 loads when a database is first opened,
 * and node-sql-parser grammars when a first statement is parsed.
 */
import type {Neo4jConnection} from './graph/writer.js'
import type {ServiceHandle, ServiceOptions} from './ingest/service.js'
import type {Logger} from './logger.js'
import type {VerifyOptions, VerifyResult} from './ops/verify.js'
import type {ExportOptions, ExportResult} from './openlineage/export.js'

// ---- errors, exit codes, logging ---------------------------------------------------------------------------
export {ERRORS, errorMessage, isLineageError, LineageError, type ErrorCode} from './errors.js'
export {EXIT_CODE_TABLE, ExitCode, type ExitCodeValue} from './exit-codes.js'
export {createLogger, LOG_LEVELS, silentLogger, type LogFields, type Logger, type LogLevel} from './logger.js'
/** A worker thread of a module beside the caller's, from dist/ or (under tsx) the sources; the bench uses it. */
export {siblingWorker} from './util/worker.js'

// ---- lineage of SQL (pure, synchronous) ------------------------------------------------------------------
export type {ColumnLineage, FileLineage, FileStatus, LineageIssue, StatementLineage} from './types.js'
export {
  DIALECT_NAMES,
  extractLineage,
  extractLineageFromBuffer,
  parseSqlFiles,
  parseVarFlags,
  PARSER_VERSION,
  readSchemaFile,
  resolveDialect,
  type ExtractOptions,
  type ParseFilesOptions,
  type ParseFilesResult,
  type SchemaCatalogue,
} from './sql/index.js'
export {parseSqlFilesIsolated, type IsolatedParseOptions} from './parse/isolated.js'

// ---- settings, feature flags, rollback ---------------------------------------------------------------------
export {
  FEATURE_ENV,
  FEATURES,
  loadSettings,
  resolveSettings,
  ROLLBACK_ORDER,
  SETTINGS,
  settingSpec,
  type SettingKey,
  type Feature,
  type ResolvedValue,
  type SettingSpec,
  type Settings,
  type SettingsInput,
  type SettingValue,
  type Source,
} from './ops/settings.js'
export {type FlagState, type RollbackRecord, type ValueChange} from './ops/flag-state.js'
export {readAudit, type AuditEntry} from './ops/audit-log.js'
export {
  FEATURE_NOTES,
  parseFeature,
  resetFlags,
  rollbackEmergency,
  rollbackGradual,
  rollbackRestore,
  setFeature,
  type FlagChangeResult,
  type FlagOpContext,
} from './ops/rollback.js'
export {
  applyFlagChange,
  assertReached,
  checkRestart,
  type FlagApplyOptions,
  type FlagApplyResult,
} from './ops/flag-apply.js'
export {parseTunable, setTunable, TUNABLES, unsetTunable} from './ops/tunables.js'
export {auditCacheClear} from './ops/cache-admin.js'
export {actorFromEnv} from './ops/flag-state.js'
export {resolveTarget, targetLine, type Target, type TargetRequest} from './ops/target.js'
export {listServices, register, registryDir, unregister, type Registration} from './ops/registry.js'
export {flagStatus, type FlagStatus, type FlagStatusRow, type ServiceApplied} from './ops/flag-status.js'
export type {ApplyStatus} from './ops/service-state.js'
export type {RestartResult} from './ops/service-manager.js'

// ---- the parse cache ---------------------------------------------------------------------------------------
export {cacheStats, type CacheStats, type CacheStatsResult, type CacheStatus} from './cache/stats.js'
export {assertCacheHealthy, checkCache, type CacheCheck} from './cache/integrity.js'
export {clearCache, type ClearResult} from './cache/clear.js'
export {corruptCopies, removeCorruptCopies, type CorruptCopy} from './cache/corrupt-copies.js'

// ---- the graph and the failed-ingestion file ---------------------------------------------------------------
export type {Neo4jConnection} from './graph/writer.js'
export {safeUri} from './graph/writer.js'
export {countFailures} from './ingest/dead-letter.js'
export {
  replaySettings,
  retryFailed,
  type ReplayWriter,
  type RetryFailedOptions,
  type RetryFailedResult,
  type SkipReason,
} from './ops/retry-failed.js'

/** Connect to Neo4j (and create the constraints): the writer `retryFailed` replays through. */
export async function openGraphWriter(conn: Neo4jConnection, options: {logger: Logger; namespace: string}) {
  const {GraphWriter} = await import('./graph/writer.js')
  return GraphWriter.connect(conn, options)
}

// ---- the service and its health check ----------------------------------------------------------------------
export type {RunSummary, ServiceHandle, ServiceOptions} from './ingest/service.js'
export type {IngestStats} from './ingest/ingestor.js'
export type {IngestObserver} from './ingest/observer.js'
export type {GraphStatus, LedgerRow} from './ingest/ledger.js'
export {scanFolder, type FileStat} from './ingest/reconciler.js'
export {Batcher, type FileEvent} from './ingest/batcher.js'
export type {CheckResult, CheckStatus, VerifyOptions, VerifyResult} from './ops/verify.js'

/** Start the ingestion service (what `lineage watch` runs); see ServiceHandle for stopping it. */
export async function startService(options: ServiceOptions): Promise<ServiceHandle> {
  const service = await import('./ingest/start.js')
  return service.startService(options)
}

/** The health check `lineage verify` runs. */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const checks = await import('./ops/verify.js')
  return checks.verify(options)
}

// ---- reading the graph: trace and impact (Neo4j, or the output folder) --------------------------------------
export type {Direction, Level, LineageEdge, LineageGraph} from './query/graph.js'
export type {OpenedGraph} from './query/open.js'
export {closestNames, trace, type TraceDirection, type TraceOptions, type TraceResult} from './query/trace.js'
export {
  computeImpact,
  diffEdges,
  failsOn,
  impact,
  type DownstreamNode,
  type FailOn,
  type FileChange,
  type ImpactEdge,
  type ImpactFile,
  type ImpactOptions,
  type ImpactResult,
} from './query/impact.js'

/** The graph `trace` and `impact` read: Neo4j when `neo4j` is set, else the output folder. */
export async function openLineageGraph(options: {
  neo4j: Neo4jConnection | undefined
  namespace: string
  outDir: string
  indexFile?: string | undefined
}) {
  const open = await import('./query/open.js')
  return open.openLineageGraph(options)
}

// ---- OpenLineage: events of the output folder, the namespace they are named in ------------------------------
export {folderNamespace, lineageNamespace, settingsNamespace} from './ops/namespace.js'
export type {ExportDestination, ExportOptions, ExportResult} from './openlineage/export.js'
export type {RunEvent} from './openlineage/event.js'
export {displayUrl, isHttpUrl} from './openlineage/transport.js'

/** One OpenLineage RunEvent per lineage record of the output folder, to lines, a file or an HTTP endpoint. */
export async function exportOpenLineage(options: ExportOptions): Promise<ExportResult> {
  const openLineage = await import('./openlineage/export.js')
  return openLineage.exportOpenLineage(options)
}
