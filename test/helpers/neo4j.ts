/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags as classes, yet documents and accepts plain objects. */
/**
 * The real Neo4j for integration tests (scripts/neo4j-test-server.sh exports NEO4J_URI). Without it the
 * suite fails under CI=true and is skipped, loudly, elsewhere. Also: a clean graph between tests, and a
 * snapshot of the whole graph (every node and relationship, volatile properties left out) so tests assert
 * graph equality rather than counts.
 */
import neo4j, {type Driver} from 'neo4j-driver'

import type {FileLineage, StatementLineage} from '../../src/core/index.js'
import type {GraphUpsert} from '../../src/core/graph/model.js'
import {startFaultProxy} from './fault-proxy.js'

/** The namespace tests write in when they talk to GraphWriter directly (a service derives its own). */
export const TEST_NAMESPACE = 'test'

/** Properties that differ between two ingestions of the same files. */
export const VOLATILE_PROPERTIES = ['ingestedAt']

export interface Snapshot {
  nodes: string[]
  relationships: string[]
}

export interface Neo4jContext {
  readonly uri: string
  readonly driver: Driver
  readonly conn: {uri: string; user: string; password: string; database: string | undefined}
  cleanGraph(): Promise<void>
  graphSnapshot(): Promise<Snapshot>
  query(cypher: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>
}

/**
 * Call inside a describe: connects in before() (failing under CI=true, skipping otherwise when NEO4J_URI is
 * missing), cleans the graph before each test, closes the driver in after().
 */
export function useNeo4j(): Neo4jContext {
  let driver: Driver | undefined
  const uri = process.env.NEO4J_URI ?? ''
  const user = process.env.NEO4J_USER ?? 'neo4j'
  const password = process.env.NEO4J_PASSWORD ?? ''
  const database = process.env.NEO4J_DATABASE
  const ctx: Neo4jContext = {
    uri,
    conn: {uri, user, password, database},
    get driver(): Driver {
      if (!driver) throw new Error('the Neo4j driver is not open (outside a test?)')
      return driver
    },
    cleanGraph: async () => {
      await ctx.query('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS')
    },
    graphSnapshot: () => graphSnapshot(ctx),
    query: async (cypher, params = {}) => {
      const session = ctx.driver.session(database === undefined ? {} : {database})
      try {
        const result = await session.run(cypher, params)
        return result.records.map((r) => r.toObject() as Record<string, unknown>)
      } finally {
        await session.close()
      }
    },
  }

  before(async function () {
    if (uri === '') {
      const message =
        'NEO4J_URI is not set: run these tests through "bash scripts/neo4j-test-server.sh run -- npx mocha ..."'
      if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing Neo4j is a failure)`)
      process.stderr.write(`\n${'#'.repeat(100)}\n# SKIPPED Neo4j tests: ${message}\n${'#'.repeat(100)}\n\n`)
      this.skip()
    }
    driver = neo4j.driver(uri, password === '' ? {scheme: 'none', credentials: ''} : neo4j.auth.basic(user, password), {
      disableLosslessIntegers: true,
    })
    await driver.verifyConnectivity()
  })
  beforeEach(async () => {
    await ctx.cleanGraph()
  })
  after(async () => {
    await driver?.close()
  })
  return ctx
}

/** Every node (labels and properties) and relationship (type, properties, endpoint identities), sorted. */
export async function graphSnapshot(ctx: Pick<Neo4jContext, 'query'>): Promise<Snapshot> {
  const nodes = await ctx.query('MATCH (n) RETURN labels(n) AS labels, properties(n) AS props')
  const rels = await ctx.query(
    `MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props,
       labels(a) AS al, properties(a) AS ap, labels(b) AS bl, properties(b) AS bp`,
  )
  const node = (labels: unknown, props: unknown): string => canonical({labels: sorted(labels), props: stable(props)})
  return {
    nodes: nodes.map((n) => node(n.labels, n.props)).sort(),
    relationships: rels
      .map((r) =>
        canonical({
          type: r.type,
          props: stable(r.props),
          from: identity(r.al, r.ap),
          to: identity(r.bl, r.bp),
        }),
      )
      .sort(),
  }
}

function identity(labels: unknown, props: unknown): string {
  const p = props as Record<string, unknown>
  const ls = sorted(labels)
  const key = ls.includes('SqlFile')
    ? [p.namespace, p.path]
    : ls.includes('Statement')
      ? [p.namespace, p.id]
      : (p.key ?? stable(props))
  return canonical({labels: ls, key})
}

function sorted(labels: unknown): string[] {
  return [...(labels as string[])].sort()
}

function stable(props: unknown): Record<string, unknown> {
  const p = props as Record<string, unknown>
  return Object.fromEntries(
    Object.keys(p)
      .filter((k) => !VOLATILE_PROPERTIES.includes(k))
      .sort()
      .map((k) => [k, p[k]]),
  )
}

function canonical(value: unknown): string {
  return JSON.stringify(value)
}

// ---- building ops ------------------------------------------------------------------------------------------

export function stmt(index: number, parts: Partial<StatementLineage> = {}): StatementLineage {
  return {
    index,
    kind: 'INSERT',
    line: index * 3 + 1,
    column: 1,
    sources: [],
    targets: [],
    columns: [],
    grammar: 'ansi',
    status: 'ok',
    error: null,
    ...parts,
  }
}

export function lineage(path: string, statements: StatementLineage[]): FileLineage {
  return {
    path,
    dialect: 'ansi',
    status: 'ok',
    sources: [],
    targets: [],
    statements,
    errors: [],
    parserVersion: 'test',
  }
}

export function upsert(
  path: string,
  statements: StatementLineage[],
  contentHash = `hash-of-${path}`,
  ingestedAt = '2026-01-01T00:00:00.000Z',
): GraphUpsert {
  return {op: 'upsert', path, contentHash, dialect: 'ansi', ingestedAt, lineage: lineage(path, statements)}
}

// ---- a TCP proxy: a real network fault between the writer and Neo4j ---------------------------------------

export interface Proxy {
  readonly uri: string
  /** Refuse new connections and cut the open ones. */
  down(): Promise<void>
  /** Accept connections again, on the same port. */
  up(): Promise<void>
  close(): Promise<void>
}

/** The fault proxy (fault-proxy.ts) reduced to an outage switch, for tests that need nothing else. */
export async function startProxy(targetUri: string): Promise<Proxy> {
  const proxy = await startFaultProxy(targetUri)
  return {
    uri: proxy.uri,
    down: () => proxy.set('refuse'),
    up: () => proxy.set('pass'),
    close: () => proxy.close(),
  }
}
