/**
 * GraphWriter: writes file lineage into Neo4j (the model is in graph-model.ts) and takes it out again.
 *
 * - `connect` verifies connectivity and creates the uniqueness constraints; it throws LineageError
 *   E_NEO4J_UNAVAILABLE (exit 69) when Neo4j cannot be reached, E_CONFIG (78) when it rejects the
 *   credentials or the database. neo4j-driver is imported there, lazily: importing this module is cheap.
 * - `apply` never throws for Neo4j failures: they come back in `failed`, the rest in `written`.
 *   Batched: one UNWIND transaction per group of whole files (a file's rows are never split over two
 *   transactions, so a file is all in or all out), nodes before relationships, with the queries of
 *   graph/cypher.ts (relationships CREATEd after the replacement delete). Single (the baseline): a
 *   replacement-delete transaction per op, then one transaction per node and per relationship, the
 *   SqlFile node (with contentHash) last, so a SqlFile carrying a contentHash proves its write completed.
 * - Transient errors are retried with exponential backoff; after a connectivity failure a circuit breaker
 *   fails further writes at once for `breakerMs`. A batch that fails for another reason is split so each
 *   file is tried alone, isolating a poisoned one.
 * - Every value is a parameter; labels and relationship types are constants here. No message carries the
 *   password.
 */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags (Config, SessionConfig, QueryConfig) as classes, yet documents and
   accepts plain objects for them. */
import type {Driver, Transaction} from 'neo4j-driver'

import {errorMessage, LineageError} from '../errors.js'
import {
  BATCH_ORDER,
  BATCH_QUERIES,
  ENTITY_ORDER,
  ENTITY_QUERIES,
  ORPHANS,
  READS,
  REPLACE,
  REQUIRED_CONSTRAINTS,
  SCHEMA,
} from './cypher.js'
import {batchRows, singleRows} from './rows.js'
import {entityCount, type GraphOp, type PreparedOp, prepareOp} from './model.js'
import type {Logger} from '../logger.js'

export type {GraphOp, GraphRetract, GraphUpsert, PreparedOp} from './model.js'
export {REQUIRED_CONSTRAINTS} from './cypher.js'

export interface GraphFailure {
  op: GraphOp
  code: string
  error: string
}
export interface ApplyResult {
  written: GraphOp[]
  failed: GraphFailure[]
  transactions: number
}
export interface PreparedFailure {
  item: PreparedOp
  code: string
  error: string
}
export interface PreparedResult {
  written: PreparedOp[]
  failed: PreparedFailure[]
  transactions: number
}
export interface RetryPolicy {
  attempts: number
  initialDelayMs: number
  maxDelayMs: number
}
export interface GraphWriterOptions {
  logger: Logger
  retry?: Partial<RetryPolicy>
  connectTimeoutMs?: number
  /** Create the constraints at connect (default true); `verify` only checks them. */
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
export interface Neo4jConnection {
  uri: string
  user: string
  password: string
  database: string | undefined
}
export interface FileState {
  path: string
  exists: boolean
  contentHash: string | null
  ingestedAt: string | null
  statements: number
}

export const DEFAULT_RETRY: RetryPolicy = {attempts: 3, initialDelayMs: 100, maxDelayMs: 2000}
/**
 * Measured on Neo4j 5.26 (2 cores, 300 generated files of ~650 entities): 10k-20k entities per transaction
 * write ~40-45k rows/s fresh and ~23-29k rows/s when replacing; 1k-2.5k lose ~20% on fresh writes, 50k
 * halves the replacement rate (bigger deletes to commit). 10k keeps the locks and the rollback small.
 * Rows per UNWIND statement made no measurable difference between 1k and 5k.
 * Re-measured with the batched queries (Neo4j CPU per 300 files of ~1,000 entities, fresh/replace):
 * 2.5k 4.9/6.8 s, 10k 4.1-4.4/6.1-6.7 s, 25k 4.3-4.5/7.6-8.0 s, 60k 4.5-4.6/9.3-9.4 s; rows per query
 * 500, 2.5k and 10k within noise. 10k stays.
 */
export const DEFAULT_MAX_ENTITIES_PER_TX = 10_000
export const DEFAULT_ROWS_PER_QUERY = 2_500

const Q = {...REPLACE, ...ORPHANS, ...ENTITY_QUERIES, fileStates: READS.fileStates}
type QueryName = keyof typeof Q

class Candidates {
  tables = new Set<string>()
  columns = new Set<string>()
}

interface Failure {
  code: 'E_NEO4J_UNAVAILABLE' | 'E_NEO4J_WRITE'
  error: string
  connectivity: boolean
}

export class GraphWriter {
  readonly stats = {transactions: 0, entities: 0, retries: 0, failures: 0}
  private readonly retry: RetryPolicy
  /** Driver query options: the database when one is configured (the server default otherwise). */
  private readonly db: {database?: string}
  private breakerUntil = 0
  private breakerReason = ''

  private constructor(
    private readonly driver: Driver,
    private readonly conn: Neo4jConnection,
    private readonly options: GraphWriterOptions,
  ) {
    this.retry = {...DEFAULT_RETRY, ...options.retry}
    this.db = conn.database === undefined ? {} : {database: conn.database}
  }

  static async connect(conn: Neo4jConnection, options: GraphWriterOptions): Promise<GraphWriter> {
    const neo4j = (await import('neo4j-driver')).default
    // No password: the 'none' scheme (a server with auth disabled); the typings lack auth.none().
    const auth = conn.password === '' ? {scheme: 'none', credentials: ''} : neo4j.auth.basic(conn.user, conn.password)
    const timeout = options.acquisitionTimeoutMs ?? 5000
    const driver = neo4j.driver(conn.uri, auth, {
      connectionAcquisitionTimeout: timeout,
      connectionTimeout: timeout,
      // Reads (fileStates, constraintsPresent) use the driver's own retries: keep them short when Neo4j is down.
      maxTransactionRetryTime: 2000,
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
      await withTimeout(driver.verifyConnectivity(writer.db), options.connectTimeoutMs ?? 10_000)
      if (options.createConstraints !== false) {
        for (const statement of SCHEMA) await driver.executeQuery(statement, {}, writer.db)
      }
    } catch (error) {
      await driver.close().catch(() => undefined)
      throw connectError(error, conn)
    }
    return writer
  }

  async apply(ops: GraphOp[], options: {batched: boolean}): Promise<ApplyResult> {
    const original = new Map(ops.map((op) => [prepareOp(op), op]))
    const result = await this.applyPrepared([...original.keys()], options)
    const back = (p: PreparedOp): GraphOp[] => {
      const op = original.get(p)
      return op ? [op] : []
    }
    return {
      written: result.written.flatMap(back),
      failed: result.failed.flatMap((f) => back(f.item).map((op) => ({op, code: f.code, error: f.error}))),
      transactions: result.transactions,
    }
  }

  /** Like apply, for ops already turned into rows (retry-failed replays these from the failed-ingestion file). */
  async applyPrepared(items: PreparedOp[], options: {batched: boolean}): Promise<PreparedResult> {
    const before = this.stats.transactions
    // The last op of a path wins; the earlier ones are superseded, so they count as written.
    const last = new Map<string, PreparedOp>()
    for (const item of items) last.set(item.path, item)
    const todo = [...last.values()]
    const written = items.filter((i) => last.get(i.path) !== i)
    const failed: PreparedFailure[] = []
    if (options.batched) {
      for (const group of this.groups(todo)) {
        const outcome = await this.writeGroup(group)
        written.push(...outcome.written)
        failed.push(...outcome.failed)
      }
    } else {
      for (const item of todo) {
        const outcome = await this.writeSingle(item)
        written.push(...outcome.written)
        failed.push(...outcome.failed)
      }
    }
    this.stats.failures += failed.length
    return {written, failed, transactions: this.stats.transactions - before}
  }

  /** Delete the given Table and Column nodes when nothing references them any more (one transaction). */
  async removeOrphans(tableKeys: Iterable<string>, columnKeys: Iterable<string>): Promise<void> {
    const c = new Candidates()
    for (const k of tableKeys) c.tables.add(k)
    for (const k of columnKeys) c.columns.add(k)
    await this.runTx((tx) => this.cleanOrphans(tx, c))
  }

  /** What the graph holds for these paths (retry-failed's skip decisions). */
  async fileStates(paths: string[]): Promise<Map<string, FileState>> {
    const {records} = await this.driver.executeQuery(Q.fileStates, {rows: paths}, this.db)
    const states = new Map<string, FileState>()
    for (const r of records) {
      const path = r.get('path') as string
      states.set(path, {
        path,
        exists: r.get('exists') as boolean,
        contentHash: r.get('contentHash') as string | null,
        ingestedAt: r.get('ingestedAt') as string | null,
        statements: r.get('n') as number,
      })
    }
    return states
  }

  async ping(timeoutMs = 3000): Promise<{ok: boolean; error?: string}> {
    try {
      await withTimeout(this.driver.executeQuery('RETURN 1', {}, this.db), timeoutMs)
      return {ok: true}
    } catch (error) {
      return {ok: false, error: redact(errorMessage(error), this.conn)}
    }
  }

  async constraintsPresent(): Promise<{ok: boolean; missing: string[]}> {
    const {records} = await this.driver.executeQuery(
      'SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties',
      {},
      this.db,
    )
    const present = new Set(
      records
        .filter((r) => ['UNIQUENESS', 'NODE_PROPERTY_UNIQUENESS', 'NODE_KEY'].includes(r.get('type') as string))
        .map((r) => `${(r.get('labelsOrTypes') as string[]).join(':')}.${(r.get('properties') as string[]).join(',')}`),
    )
    const missing = REQUIRED_CONSTRAINTS.filter((c) => !present.has(c))
    return {ok: missing.length === 0, missing}
  }

  async close(): Promise<void> {
    await this.driver.close()
  }

  // ---- batched ------------------------------------------------------------------------------------------

  private groups(items: PreparedOp[]): PreparedOp[][] {
    const max = this.options.maxEntitiesPerTx ?? DEFAULT_MAX_ENTITIES_PER_TX
    const groups: PreparedOp[][] = []
    let current: PreparedOp[] = []
    let size = 0
    for (const item of items) {
      const n = item.op === 'upsert' ? entityCount(item.rows) : 1
      if (current.length > 0 && size + n > max) {
        groups.push(current)
        current = []
        size = 0
      }
      current.push(item)
      size += n
    }
    if (current.length > 0) groups.push(current)
    return groups
  }

  private async writeGroup(group: PreparedOp[]): Promise<{written: PreparedOp[]; failed: PreparedFailure[]}> {
    try {
      await this.runTx(async (tx) => {
        const candidates = await this.deleteOld(tx, group)
        await this.run(
          tx,
          'deleteFiles',
          group.filter((i) => i.op === 'retract').map((i) => i.path),
        )
        const rows = batchRows(group.flatMap((i) => (i.op === 'upsert' ? [i.rows] : [])))
        for (const name of BATCH_ORDER) await this.runCypher(tx, BATCH_QUERIES[name], rows[name])
        await this.cleanOrphans(tx, candidates)
      })
      this.stats.entities += group.reduce((n, i) => n + (i.op === 'upsert' ? entityCount(i.rows) : 0), 0)
      return {written: group, failed: []}
    } catch (error) {
      const failure = this.describe(error)
      if (failure.connectivity || group.length === 1) {
        return {written: [], failed: group.map((item) => ({item, code: failure.code, error: failure.error}))}
      }
      this.options.logger.warn(`a batch of ${group.length} files failed (${failure.error}); writing each alone`)
      const written: PreparedOp[] = []
      const failed: PreparedFailure[] = []
      for (const item of group) {
        const one = await this.writeGroup([item])
        written.push(...one.written)
        failed.push(...one.failed)
      }
      return {written, failed}
    }
  }

  // ---- single (baseline) --------------------------------------------------------------------------------

  private async writeSingle(item: PreparedOp): Promise<{written: PreparedOp[]; failed: PreparedFailure[]}> {
    try {
      await this.runTx(async (tx) => {
        const candidates = await this.deleteOld(tx, [item])
        await this.run(tx, item.op === 'retract' ? 'deleteFiles' : 'unsealFiles', [item.path])
        await this.cleanOrphans(tx, candidates)
      })
      if (item.op === 'upsert') {
        const rows = singleRows(item.rows)
        for (const name of ENTITY_ORDER) {
          for (const row of rows[name]) await this.writeEntity(name, row)
        }
        await this.writeEntity('files', item.rows.file)
      }
      return {written: [item], failed: []}
    } catch (error) {
      const failure = this.describe(error)
      return {written: [], failed: [{item, code: failure.code, error: failure.error}]}
    }
  }

  private async writeEntity(name: QueryName, row: unknown): Promise<void> {
    await this.runTx(async (tx) => {
      await this.run(tx, name, [row])
    })
    this.stats.entities++
  }

  // ---- shared pieces ------------------------------------------------------------------------------------

  /** Delete what these paths produced before; returns the Table and Column nodes that may now be orphans. */
  private async deleteOld(tx: Transaction, items: PreparedOp[]): Promise<Candidates> {
    const c = new Candidates()
    const paths = items.map((i) => i.path)
    for (const r of await this.run(tx, 'deleteDerives', paths)) {
      const set = r.isTable === true ? c.tables : c.columns
      set.add(r.a as string)
      set.add(r.b as string)
    }
    for (const r of await this.run(tx, 'deleteStatements', paths)) {
      for (const k of r.tables as string[]) c.tables.add(k)
      for (const k of r.columns as string[]) c.columns.add(k)
    }
    return c
  }

  private async cleanOrphans(tx: Transaction, c: Candidates): Promise<void> {
    const deriveless = (await this.run(tx, 'derivelessColumns', [...c.columns])).map((r) => r.k as string)
    if (deriveless.length === 0) return this.cleanTables(tx, c.tables)
    const {records} = await tx.run(Q.liveColumns, {keys: deriveless})
    const live = new Set(records.map((r) => r.get('k') as string))
    const dead = deriveless.filter((k) => !live.has(k))
    for (const r of await this.run(tx, 'deleteColumns', dead)) for (const k of r.tables as string[]) c.tables.add(k)
    return this.cleanTables(tx, c.tables)
  }

  private async cleanTables(tx: Transaction, tables: Set<string>): Promise<void> {
    await this.run(tx, 'deleteTables', [...tables])
  }

  /** Run one of the UNWIND queries over rows, in slices; returns the result rows as plain objects. */
  private run(tx: Transaction, name: QueryName, rows: readonly unknown[]): Promise<Record<string, unknown>[]> {
    return this.runCypher(tx, Q[name], rows)
  }

  private async runCypher(
    tx: Transaction,
    cypher: string,
    rows: readonly unknown[],
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = []
    const size = this.options.rowsPerQuery ?? DEFAULT_ROWS_PER_QUERY
    for (let i = 0; i < rows.length; i += size) {
      const {records} = await tx.run(cypher, {rows: rows.slice(i, i + size)})
      for (const r of records) out.push(r.toObject())
    }
    return out
  }

  /** One write transaction with bounded retries; every attempt counts as a transaction. */
  private async runTx(work: (tx: Transaction) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (Date.now() < this.breakerUntil) throw new BreakerOpen(this.breakerReason)
      this.stats.transactions++
      const session = this.driver.session({...this.db, defaultAccessMode: 'WRITE'})
      try {
        const tx = await session.beginTransaction()
        try {
          await work(tx)
          await tx.commit()
        } catch (error) {
          if (tx.isOpen()) await tx.rollback().catch(() => undefined)
          throw error
        }
        return
      } catch (error) {
        const kind = classify(error)
        if (kind === 'fatal' || attempt >= this.retry.attempts) {
          if (kind === 'connectivity') this.openBreaker(error)
          throw error
        }
        this.stats.retries++
        const delay = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** (attempt - 1))
        this.options.logger.debug(`Neo4j transient error, retry ${attempt} in ${delay} ms`, {
          error: errorMessage(error),
        })
        await new Promise((resolve) => setTimeout(resolve, delay))
      } finally {
        await session.close().catch(() => undefined)
      }
    }
  }

  private openBreaker(error: unknown): void {
    this.breakerUntil = Date.now() + (this.options.breakerMs ?? 5000)
    this.breakerReason = redact(errorMessage(error), this.conn)
  }

  private describe(error: unknown): Failure {
    const connectivity = classify(error) === 'connectivity'
    const code = (error as {code?: unknown}).code
    const prefix = typeof code === 'string' && code.startsWith('Neo.') ? `${code}: ` : ''
    const text = redact(`${prefix}${errorMessage(error)}`, this.conn)
    return {
      code: connectivity ? 'E_NEO4J_UNAVAILABLE' : 'E_NEO4J_WRITE',
      error: text.length > 2000 ? `${text.slice(0, 2000)}...` : text,
      connectivity,
    }
  }
}

class BreakerOpen extends Error {
  readonly code = 'ServiceUnavailable'
  constructor(reason: string) {
    super(`Neo4j unavailable (failing fast after: ${reason})`)
  }
}

/** connectivity: retried, then opens the breaker; transient: retried; fatal: not retried. */
function classify(error: unknown): 'connectivity' | 'transient' | 'fatal' {
  const code = (error as {code?: unknown}).code
  const message = errorMessage(error)
  if (code === 'ServiceUnavailable' || code === 'SessionExpired') return 'connectivity'
  if (/Connection acquisition timed out|ECONNREFUSED|ECONNRESET|EPIPE|Pool is closed/.test(message)) {
    return 'connectivity'
  }
  if (typeof code === 'string' && code.startsWith('Neo.TransientError.')) return 'transient'
  if ((error as {retryable?: unknown}).retryable === true) return 'transient'
  return 'fatal'
}

function connectError(error: unknown, conn: Neo4jConnection): LineageError {
  const code = (error as {code?: unknown}).code
  const where = `Neo4j at ${safeUri(conn.uri)}`
  const reason = redact(errorMessage(error), conn)
  if (code === 'Neo.ClientError.Security.Unauthorized' || code === 'Neo.ClientError.Security.AuthenticationRateLimit') {
    return new LineageError(
      'E_CONFIG',
      `${where} rejected the credentials of user "${conn.user}"`,
      'Check NEO4J_USER and NEO4J_PASSWORD (or NEO4J_PASSWORD_FILE).',
    )
  }
  if (code === 'Neo.ClientError.Database.DatabaseNotFound') {
    return new LineageError('E_CONFIG', `${where}: ${reason}`, 'Check NEO4J_DATABASE.')
  }
  return new LineageError('E_NEO4J_UNAVAILABLE', `${where} is unreachable: ${reason}`)
}

/** The URI without any user:password@ part. */
export function safeUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//')
}

function redact(text: string, conn: Neo4jConnection): string {
  let out = text.split(conn.uri).join(safeUri(conn.uri))
  if (conn.password.length >= 4) out = out.split(conn.password).join('***')
  return out
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
