/**
 * GraphWriter: writes file lineage into Neo4j (the model is in graph/model) and takes it out again; the one
 * object callers hold. It owns the driver, and hands the work to the batched writer (graph/batch-writer), the
 * one-by-one baseline (graph/single-writer) and the transactions runner (graph/transactions: the driver's
 * retries, the fail-fast window, the counters). The Cypher is in graph/cypher.
 *
 * - A writer writes in one namespace (`namespace`, graph/cypher says what it keys), the one `apply` and
 *   `fileStates` use; `applyPrepared` takes each op's own (retry-failed replays ops of other namespaces too).
 * - `connect` verifies connectivity, creates the uniqueness constraints and migrates a graph written before
 *   namespaces into the writer's namespace (graph/migrate); it throws LineageError
 *   E_NEO4J_UNAVAILABLE (exit 69) when Neo4j cannot be reached, E_CONFIG (78) when it rejects the
 *   credentials or the database. It does not report to GraphHealth: the caller that connects decides what an
 *   unreachable Neo4j at connect means. neo4j-driver is imported there, lazily: importing this module is cheap.
 * - `apply` and `applyPrepared` never throw for Neo4j failures: they come back in `failed`, the rest in
 *   `written`. The writes report to `health` (created here unless the caller shares one).
 * - `removeOrphans`, `fileStates` and `constraintsPresent` throw what the driver throws (`removeOrphans`, a
 *   write, also Neo4jUnavailable while writes fail fast); `ping` never throws.
 * - Every value is a parameter. No message, log line or failure carries the password.
 */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags (Config, SessionConfig, QueryConfig) as classes, yet documents and
   accepts plain objects for them. */
import type {Driver} from 'neo4j-driver'

import {errorMessage, LineageError} from '../errors.js'
import type {Logger} from '../logger.js'
import {DEFAULT_MAX_ENTITIES_PER_TX, writeBatched} from './batch-writer.js'
import {READS, REQUIRED_CONSTRAINTS, SCHEMA} from './cypher.js'
import {GraphHealth} from './health.js'
import {migrateNamespaces} from './migrate.js'
import {type GraphOp, type PreparedOp, prepareOp} from './model.js'
import {connectError, describeFailure, redact} from './neo4j-errors.js'
import {KnownNodes} from './known-nodes.js'
import {Candidates, cleanOrphans} from './replace.js'
import {writeOneByOne} from './single-writer.js'
import {
  DEFAULT_BREAKER_MS,
  DEFAULT_MAX_RETRY_TIME_MS,
  DEFAULT_ROWS_PER_QUERY,
  type Row,
  Transactions,
} from './transactions.js'
import type {ApplyResult, FileState, Neo4jConnection, PreparedFailure, PreparedResult, WriterStats} from './types.js'

export type {GraphOp, GraphRetract, GraphUpsert, PreparedOp} from './model.js'
export type {ApplyResult, FileState, GraphFailure, Neo4jConnection, PreparedFailure, PreparedResult} from './types.js'
export type {WriterStats} from './types.js'
export {safeUri} from './neo4j-errors.js'
export {REQUIRED_CONSTRAINTS} from './cypher.js'
export {DEFAULT_MAX_ENTITIES_PER_TX} from './batch-writer.js'
export {DEFAULT_BREAKER_MS, DEFAULT_MAX_RETRY_TIME_MS, DEFAULT_ROWS_PER_QUERY} from './transactions.js'

export interface GraphWriterOptions {
  logger: Logger
  /** The namespace `apply` writes in and `fileStates` reads (ops/namespace.ts lineageNamespace). */
  namespace: string
  /** The health to report to; the service shares its own. A new one (up) when absent. */
  health?: GraphHealth
  /** How long the driver keeps retrying a failed transaction (ms); see graph/transactions. */
  maxRetryTimeMs?: number
  /**
   * The longest `connect` waits for Neo4j (ms). It is the driver's connection acquisition timeout, so it also
   * caps `acquisitionTimeoutMs` (verify passes what is left of its time budget).
   */
  connectTimeoutMs?: number
  /** Create the constraints and migrate at connect (default true); `verify` only checks them. */
  createConstraints?: boolean
  /** How long a write waits for a pooled connection, and for a TCP connection (ms). */
  acquisitionTimeoutMs?: number
  /** After a connectivity failure, writes fail at once for this long (ms). */
  breakerMs?: number
  /** Batched mode: start a new transaction once a group holds this many entities (whole files). */
  maxEntitiesPerTx?: number
  /** Rows per UNWIND statement inside a transaction. */
  rowsPerQuery?: number
}

export class GraphWriter {
  readonly stats: WriterStats = {transactions: 0, entities: 0, retries: 0, failures: 0}
  readonly health: GraphHealth
  private readonly txs: Transactions
  /** Table and Column nodes written before, which the batched writer does not MERGE again (graph/known-nodes). */
  private readonly known = new KnownNodes()

  private constructor(
    private readonly driver: Driver,
    private readonly conn: Neo4jConnection,
    private readonly options: GraphWriterOptions,
  ) {
    this.health = options.health ?? new GraphHealth()
    this.txs = new Transactions(driver, this.db, this.health, this.stats, {
      logger: options.logger,
      breakerMs: options.breakerMs ?? DEFAULT_BREAKER_MS,
      rowsPerQuery: options.rowsPerQuery ?? DEFAULT_ROWS_PER_QUERY,
      redact: (text) => redact(text, conn),
    })
  }

  /** Driver query options: the database when one is configured (the server default otherwise). */
  private get db(): {database?: string} {
    return this.conn.database === undefined ? {} : {database: this.conn.database}
  }

  static async connect(conn: Neo4jConnection, options: GraphWriterOptions): Promise<GraphWriter> {
    const neo4j = (await import('neo4j-driver')).default
    // No password: the 'none' scheme (a server with auth disabled); the typings lack auth.none().
    const auth = conn.password === '' ? {scheme: 'none', credentials: ''} : neo4j.auth.basic(conn.user, conn.password)
    const timeout = Math.min(options.acquisitionTimeoutMs ?? 5000, options.connectTimeoutMs ?? 10_000)
    const driver = neo4j.driver(conn.uri, auth, {
      connectionAcquisitionTimeout: timeout,
      connectionTimeout: timeout,
      maxTransactionRetryTime: options.maxRetryTimeMs ?? DEFAULT_MAX_RETRY_TIME_MS,
      disableLosslessIntegers: true,
      logging: {
        level: 'warn',
        logger: (_level, message) => {
          options.logger.debug(redact(message, conn))
        },
      },
    })
    const writer = new GraphWriter(driver, conn, options)
    try {
      // Bounded by the acquisition timeout above: verifying is acquiring one connection.
      await driver.verifyConnectivity(writer.db)
      if (options.createConstraints !== false) {
        for (const statement of SCHEMA) await driver.executeQuery(statement, {}, writer.db)
        const migrated = await migrateNamespaces(driver, writer.db, options.namespace)
        if (migrated.droppedConstraints.length > 0 || migrated.files > 0) {
          options.logger.info(
            `graph migrated to namespaces: ${migrated.files} SqlFile, ${migrated.statements} Statement and ` +
              `${migrated.derives} DERIVES_FROM without one put in namespace ${options.namespace}` +
              (migrated.droppedConstraints.length > 0 ? `; dropped ${migrated.droppedConstraints.join(', ')}` : ''),
          )
        }
      }
    } catch (error) {
      await driver.close().catch(() => undefined)
      throw connectError(error, conn)
    }
    return writer
  }

  async apply(ops: GraphOp[], options: {batched: boolean}): Promise<ApplyResult> {
    const original = new Map(ops.map((op) => [prepareOp(op, this.options.namespace), op]))
    const result = await this.applyPrepared([...original.keys()], options)
    const back = (p: PreparedOp): GraphOp[] => {
      const op = original.get(p)
      return op ? [op] : []
    }
    return {
      written: result.written.flatMap(back),
      failed: result.failed.flatMap((f) =>
        back(f.item).map((op) => ({op, namespace: f.item.namespace, code: f.code, error: f.error})),
      ),
      transactions: result.transactions,
    }
  }

  /**
   * Like apply, for ops already turned into rows (retry-failed replays these from the failed-ingestion file).
   * With `skipNewer` (batched only), an item whose path the graph holds from a write newer than the item's
   * time, read under the transaction's path lock, is left out and comes back in `superseded`.
   */
  async applyPrepared(items: PreparedOp[], options: {batched: boolean; skipNewer?: boolean}): Promise<PreparedResult> {
    const before = this.stats.transactions
    // The last op of a path (in its namespace) wins; the earlier ones are superseded, so they count as written.
    const last = new Map<string, PreparedOp>()
    const key = (i: PreparedOp): string => JSON.stringify([i.namespace, i.path])
    for (const item of items) last.set(key(item), item)
    const todo = [...last.values()]
    const superseded = items.filter((i) => last.get(key(i)) !== i)
    const describe = (error: unknown) => describeFailure(error, this.conn)
    const outcome = options.batched
      ? await writeBatched(todo, {
          txs: this.txs,
          stats: this.stats,
          logger: this.options.logger,
          maxEntitiesPerTx: this.options.maxEntitiesPerTx ?? DEFAULT_MAX_ENTITIES_PER_TX,
          describe,
          skipNewer: options.skipNewer === true,
          known: this.known,
        })
      : await writeOneByOne(todo, {txs: this.txs, stats: this.stats, describe, known: this.known})
    const failed: PreparedFailure[] = outcome.failed
    this.stats.failures += failed.length
    return {
      written: [...superseded, ...outcome.written],
      failed,
      superseded: outcome.superseded ?? [],
      transactions: this.stats.transactions - before,
    }
  }

  /** Delete the given Table and Column nodes when nothing references them any more (one transaction). */
  async removeOrphans(tableKeys: Iterable<string>, columnKeys: Iterable<string>): Promise<void> {
    // Read once: an iterator gives its keys once, and the driver may run the work function again.
    const tables = [...tableKeys]
    const columns = [...columnKeys]
    await this.txs.write(async (tx) => {
      const c = new Candidates()
      for (const k of tables) c.tables.add(k)
      for (const k of columns) c.columns.add(k)
      await cleanOrphans(this.txs, tx, c, this.known)
    })
  }

  /** What the graph holds for these paths of `namespace` (retry-failed's skip decisions). */
  async fileStates(paths: string[], namespace = this.options.namespace): Promise<Map<string, FileState>> {
    const rows = await this.txs.read(READS.fileStates, {rows: paths, namespace})
    return new Map(rows.map((r) => [String(r.path), fileState(r)]))
  }

  /** Whether Neo4j answers one query now (no retries); Neo4j ends the query after `timeoutMs`. */
  async ping(timeoutMs = 3000): Promise<{ok: boolean; error?: string}> {
    try {
      await this.txs.probe(READS.ping, timeoutMs)
      return {ok: true}
    } catch (error) {
      return {ok: false, error: redact(errorMessage(error), this.conn)}
    }
  }

  async constraintsPresent(): Promise<{ok: boolean; missing: string[]}> {
    const rows = await this.txs.read(READS.constraints)
    const unique = new Set(['UNIQUENESS', 'NODE_PROPERTY_UNIQUENESS', 'NODE_KEY'])
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [])
    const present = new Set(
      rows
        .filter((r) => typeof r.type === 'string' && unique.has(r.type))
        .map((r) => `${list(r.labelsOrTypes).join(':')}.${list(r.properties).join(',')}`),
    )
    const missing = REQUIRED_CONSTRAINTS.filter((c) => !present.has(c))
    return {ok: missing.length === 0, missing}
  }

  async close(): Promise<void> {
    await this.driver.close()
  }
}

/** A fileStates row, checked: what Neo4j answered is input like any other. */
function fileState(r: Row): FileState {
  const {path, exists, contentHash, ingestedAt, n} = r
  const stringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string'
  if (
    typeof path !== 'string' ||
    typeof exists !== 'boolean' ||
    typeof n !== 'number' ||
    !stringOrNull(contentHash) ||
    !stringOrNull(ingestedAt)
  ) {
    throw new LineageError('E_NEO4J_WRITE', `Neo4j answered an unexpected file state: ${JSON.stringify(r)}`)
  }
  return {path, exists, contentHash, ingestedAt, statements: n}
}
