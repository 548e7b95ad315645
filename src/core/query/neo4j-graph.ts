/**
 * The lineage graph read from Neo4j: read transactions (`session.executeRead`) over parameterised Cypher
 * (read-cypher.ts). neo4j-driver loads in `open`. Throws LineageError E_NEO4J_UNAVAILABLE when Neo4j cannot be
 * reached and E_CONFIG when it rejects the credentials or the database (graph/neo4j-errors.ts), with the
 * password taken out of every message.
 *
 * Namespaces (graph/cypher): a Neo4jGraph reads for one namespace. Edges come from every namespace; an edge
 * whose statement is in another namespace names its file `<namespace>/<path>` (for the default `file://`
 * namespaces, the file's URL), one of this namespace by its path alone, as the output folder does. What is
 * read by file path (`fileEdges`, for impact) is read in this namespace only.
 */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags as classes, yet documents and accepts plain objects. */
import type {Driver} from 'neo4j-driver'

import {LineageError, errorMessage} from '../errors.js'
import {connectError, isConnectivity, redact} from '../graph/neo4j-errors.js'
import {nodeKey} from '../graph/model.js'
import type {Neo4jConnection} from '../graph/types.js'
import {type Direction, type LineageEdge, type LineageGraph, type Level, uniqueEdges} from './graph.js'
import {EDGES, FILE_EDGES, KIND_OF, NAMES} from './read-cypher.js'

type Row = Record<string, unknown>

export class Neo4jGraph implements LineageGraph {
  readonly backend = 'neo4j' as const

  private constructor(
    private readonly driver: Driver,
    private readonly conn: Neo4jConnection,
    private readonly namespace: string,
  ) {}

  static async open(conn: Neo4jConnection, namespace: string): Promise<Neo4jGraph> {
    const neo4j = (await import('neo4j-driver')).default
    // No password: the 'none' scheme (a server with auth disabled), as graph/writer.ts does.
    const auth = conn.password === '' ? {scheme: 'none', credentials: ''} : neo4j.auth.basic(conn.user, conn.password)
    const driver = neo4j.driver(conn.uri, auth, {
      connectionAcquisitionTimeout: 5000,
      connectionTimeout: 5000,
      disableLosslessIntegers: true,
    })
    try {
      await driver.verifyConnectivity(conn.database === undefined ? {} : {database: conn.database})
    } catch (error) {
      await driver.close().catch(() => undefined)
      throw connectError(error, conn)
    }
    return new Neo4jGraph(driver, conn, namespace)
  }

  private async read(cypher: string, params: Row): Promise<Row[]> {
    const session = this.driver.session(this.conn.database === undefined ? {} : {database: this.conn.database})
    try {
      return await session.executeRead(async (tx) => {
        const result = await tx.run(cypher, params)
        return result.records.map((r) => r.toObject())
      })
    } catch (error) {
      if (isConnectivity(error)) throw connectError(error, this.conn)
      throw new LineageError('E_NEO4J_WRITE', `Neo4j refused a read: ${redact(errorMessage(error), this.conn)}`)
    } finally {
      await session.close()
    }
  }

  async kindOf(name: string): Promise<Level | undefined> {
    const [row] = await this.read(KIND_OF, {key: nodeKey(name)})
    if (row?.isTable === true) return 'table'
    return row?.isColumn === true ? 'column' : undefined
  }

  async edges(level: Level, names: readonly string[], direction: Direction): Promise<LineageEdge[]> {
    if (names.length === 0) return []
    const rows = await this.read(EDGES[level][direction], {keys: names.map(nodeKey)})
    return uniqueEdges(rows.map((r) => this.toEdge(r)))
  }

  async names(level: Level): Promise<string[]> {
    const rows = await this.read(NAMES[level], {})
    return rows.map((r) => String(r.name)).sort()
  }

  async fileEdges(level: Level, files: readonly string[]): Promise<Map<string, LineageEdge[]>> {
    const rows = await this.read(FILE_EDGES[level], {paths: [...files], namespace: this.namespace})
    const edges = uniqueEdges(rows.map((r) => this.toEdge(r)))
    return new Map(files.map((f) => [f, edges.filter((e) => e.file === f)]))
  }

  async close(): Promise<void> {
    await this.driver.close()
  }

  private toEdge(row: Row): LineageEdge {
    const path = String(row.file)
    const file = row.namespace === this.namespace ? path : `${String(row.namespace)}/${path}`
    return {source: String(row.source), target: String(row.target), file, line: Number(row.line)}
  }
}
