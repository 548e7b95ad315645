/**
 * What the bench compares between steps, and the graph housekeeping it needs.
 *
 * - `BenchGraph`: a driver on the bench's Neo4j; counts, clears (the bench clears the graph between steps, so
 *   it refuses to start on a graph that is not empty unless told to), and digests the whole graph: per node
 *   label and relationship type a count and an order-independent sum of hashes, plus a digest per SQL file of
 *   everything that file produced (its SqlFile and Statement nodes and their relationships, the DERIVES_FROM
 *   edges of its statements). Volatile properties (`ingestedAt`) are left out.
 * - `digestOutput`: the same for the output folder, one hash per `.lineage.json` without its `ingestedAt`.
 * - `compareGraphs`, `compareOutputs`: the differences, as sentences that say where.
 *
 * `BenchGraph.open` throws what openGraphWriter throws (E_NEO4J_UNAVAILABLE 69, E_CONFIG 78); neo4j-driver
 * loads there, lazily.
 */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags (Config, SessionConfig, QueryConfig) as classes, yet documents and
   accepts plain objects for them. */
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Driver} from 'neo4j-driver'

import {errorMessage, type Logger, type Neo4jConnection, openGraphWriter} from '../core/index.js'

const MASK = (1n << 128n) - 1n

/** Counts and order-independent hash sums, per category and per SQL file. */
export interface Digest {
  /** `Column nodes`, `DERIVES_FROM relationships`, ... */
  categories: Map<string, {count: number; sum: bigint}>
  /** Per file path (graph) or per output file. */
  files: Map<string, bigint>
}

function emptyDigest(): Digest {
  return {categories: new Map(), files: new Map()}
}

function itemHash(canonical: string): bigint {
  return BigInt(`0x${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}`)
}

function add(d: Digest, category: string, file: string | null, canonical: string): void {
  const h = itemHash(canonical)
  const c = d.categories.get(category) ?? {count: 0, sum: 0n}
  c.count++
  c.sum = (c.sum + h) & MASK
  d.categories.set(category, c)
  if (file !== null) d.files.set(file, ((d.files.get(file) ?? 0n) + h) & MASK)
}

/** JSON with object keys sorted at every level (arrays keep their order), minus the volatile keys. */
export function canonicalJson(value: unknown, drop: readonly string[] = []): string {
  return JSON.stringify(sortKeys(value, new Set(drop)))
}

function sortKeys(value: unknown, drop: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, drop))
  if (typeof value !== 'object' || value === null) return value
  const obj = value as Record<string, unknown>
  return Object.fromEntries(
    Object.keys(obj)
      .filter((k) => !drop.has(k) && obj[k] !== undefined)
      .sort()
      .map((k) => [k, sortKeys(obj[k], drop)]),
  )
}

/** The file a statement id (`<path>#<index>`) belongs to. */
export function pathOfStatement(id: string): string {
  const hash = id.lastIndexOf('#')
  return hash > 0 ? id.slice(0, hash) : id
}

const VOLATILE = ['ingestedAt']
/** The namespace every bench step writes in (LINEAGE_NAMESPACE), so that the graphs of two steps compare. */
export const BENCH_NAMESPACE = 'lineage-bench'
const IDENTITY = (v: string): string =>
  `CASE WHEN ${v}:SqlFile THEN ${v}.path WHEN ${v}:Statement THEN ${v}.id ELSE ${v}.key END`

export class BenchGraph {
  private closed = false

  private constructor(
    private readonly driver: Driver,
    private readonly db: {database?: string},
    readonly uri: string,
  ) {}

  /** Connect (openGraphWriter checks reachability and credentials, and creates the constraints). */
  static async open(conn: Neo4jConnection, logger: Logger): Promise<BenchGraph> {
    const writer = await openGraphWriter(conn, {logger, namespace: BENCH_NAMESPACE})
    await writer.close()
    const neo4j = (await import('neo4j-driver')).default
    const auth = conn.password === '' ? {scheme: 'none', credentials: ''} : neo4j.auth.basic(conn.user, conn.password)
    const driver = neo4j.driver(conn.uri, auth, {disableLosslessIntegers: true})
    return new BenchGraph(driver, conn.database === undefined ? {} : {database: conn.database}, conn.uri)
  }

  async nodeCount(): Promise<number> {
    const {records} = await this.driver.executeQuery('MATCH (n) RETURN count(n) AS n', {}, this.db)
    return (records[0]?.get('n') as number | undefined) ?? 0
  }

  /**
   * Delete every node and relationship (constraints and indexes stay). Relationships first, in bounded
   * transactions: deleting nodes with DETACH would take all of a node's relationships into one transaction,
   * and a Table that thousands of statements read exceeds the server's transaction memory.
   */
  async clear(): Promise<void> {
    const session = this.driver.session(this.db)
    try {
      await session.run('MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS')
      await session.run('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS')
    } finally {
      await session.close()
    }
  }

  /** CPU time of the Neo4j server process (JMX), when the server allows the query; null otherwise. */
  async serverCpuSeconds(): Promise<number | null> {
    try {
      const {records} = await this.driver.executeQuery(
        `CALL dbms.queryJmx('java.lang:type=OperatingSystem') YIELD attributes
         RETURN attributes.ProcessCpuTime.value AS ns`,
        {},
        this.db,
      )
      const ns = records[0]?.get('ns') as unknown
      return typeof ns === 'number' ? ns / 1e9 : null
    } catch {
      return null
    }
  }

  /** Stream the whole graph into a digest. */
  async digest(): Promise<Digest> {
    const d = emptyDigest()
    await this.stream('MATCH (n) RETURN labels(n) AS labels, properties(n) AS props', (r) => {
      const labels = [...(r.labels as string[])].sort()
      const props = r.props as Record<string, unknown>
      const label = labels.join(':')
      const file =
        label === 'SqlFile' ? String(props.path) : label === 'Statement' ? pathOfStatement(String(props.id)) : null
      add(d, `${label} nodes`, file, canonicalJson({labels, props}, VOLATILE))
    })
    await this.stream(
      `MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, labels(a) AS al, ${IDENTITY('a')} AS a,
         labels(b) AS bl, ${IDENTITY('b')} AS b`,
      (r) => {
        const type = r.type as string
        const props = r.props as Record<string, unknown>
        const from = r.a as string
        const to = r.b as string
        const file =
          typeof props.statementId === 'string'
            ? pathOfStatement(props.statementId)
            : (r.al as string[]).includes('Statement')
              ? pathOfStatement(from)
              : type === 'CONTAINS'
                ? from
                : null
        add(d, `${type} relationships`, file, canonicalJson({type, props, al: r.al, from, bl: r.bl, to}, VOLATILE))
      },
    )
    return d
  }

  private async stream(cypher: string, each: (row: Record<string, unknown>) => void): Promise<void> {
    const session = this.driver.session({...this.db, defaultAccessMode: 'READ'})
    try {
      for await (const record of session.run(cypher)) each(record.toObject())
    } finally {
      await session.close()
    }
  }

  /** False once closed. */
  get open(): boolean {
    return !this.closed
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.driver.close().catch(() => undefined)
  }
}

/** One hash per `<path>.lineage.json` under `outDir`, keyed by the SQL file's path, `ingestedAt` left out. */
export function digestOutput(outDir: string): Digest {
  const d = emptyDigest()
  for (const rel of listOutputs(outDir)) {
    const abs = join(outDir, rel)
    let canonical: string
    try {
      canonical = canonicalJson(JSON.parse(readFileSync(abs, 'utf8')), VOLATILE)
    } catch (error) {
      canonical = `unreadable: ${errorMessage(error)}`
    }
    add(d, 'output files', rel.slice(0, -'.lineage.json'.length), canonical)
  }
  return d
}

/** The lineage files below `outDir`, relative to it (none when it does not exist). */
function listOutputs(outDir: string): string[] {
  try {
    return readdirSync(outDir, {recursive: true, encoding: 'utf8'}).filter((rel) => rel.endsWith('.lineage.json'))
  } catch {
    return []
  }
}

const fmt = (n: number): string => n.toLocaleString('en-US')

function listSome(paths: string[], max = 5): string {
  const shown = paths.slice(0, max).join(', ')
  return paths.length > max ? `${shown} (+${paths.length - max} more)` : shown
}

/**
 * The differences of `got` against `want` (the baseline), as sentences; empty when they are equal. Counts
 * that differ and the files that differ come first; shared nodes whose content differs (same count, no file
 * to blame) are named only when nothing else explains the difference.
 */
export function compareDigests(got: Digest, want: Digest, what: 'graph' | 'output'): string[] {
  const counts: string[] = []
  const contents: string[] = []
  const names = [...new Set([...got.categories.keys(), ...want.categories.keys()])].sort()
  for (const name of names) {
    const g = got.categories.get(name) ?? {count: 0, sum: 0n}
    const w = want.categories.get(name) ?? {count: 0, sum: 0n}
    if (g.count !== w.count) counts.push(`${name}: ${fmt(g.count)} here, ${fmt(w.count)} in the baseline`)
    else if (g.sum !== w.sum) contents.push(`${name}: same count (${fmt(g.count)}) but different content`)
  }
  const missing = [...want.files.keys()].filter((p) => !got.files.has(p)).sort()
  const extra = [...got.files.keys()].filter((p) => !want.files.has(p)).sort()
  const changed = [...got.files.keys()]
    .filter((p) => want.files.has(p) && want.files.get(p) !== got.files.get(p))
    .sort()
  const noun = what === 'graph' ? 'files in the graph' : 'output files'
  const files: string[] = []
  if (missing.length > 0) files.push(`${noun} missing: ${listSome(missing)}`)
  if (extra.length > 0) files.push(`${noun} not in the baseline: ${listSome(extra)}`)
  if (changed.length > 0) files.push(`${noun} that differ: ${listSome(changed)}`)
  return counts.length + files.length > 0 ? [...counts, ...files] : contents
}
