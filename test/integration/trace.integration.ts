import {join} from 'node:path'

import {expect} from 'chai'

import {
  openLineageGraph,
  trace,
  type LineageGraph,
  type TraceDirection,
  type TraceResult,
} from '../../src/core/index.js'
import {formatTrace} from '../../src/ui/trace.js'
import {CORPUS, writeGraph, writeOutputs} from '../core/query/corpus.js'
import {TEST_NAMESPACE, useNeo4j} from '../helpers/neo4j.js'
import {useTmpDir} from '../helpers/tmp.js'

/** Everything but the backend's name, which is the one thing that should differ. */
const comparable = (r: TraceResult): TraceResult => ({...r, backend: 'output'})

describe('trace on Neo4j and on the output folder (one corpus, both backends)', () => {
  const ctx = useNeo4j()
  const tmp = useTmpDir({prefix: 'lineage-trace-int-'})
  const graphs: LineageGraph[] = []

  afterEach(async () => {
    for (const g of graphs.splice(0)) await g.close()
  })

  async function both(): Promise<{neo: LineageGraph; out: LineageGraph}> {
    writeOutputs(join(tmp.dir, 'out'))
    await writeGraph(ctx.conn)
    const neo = (await openLineageGraph({neo4j: ctx.conn, namespace: TEST_NAMESPACE, outDir: join(tmp.dir, 'nowhere')}))
      .graph
    const out = (await openLineageGraph({neo4j: undefined, namespace: TEST_NAMESPACE, outDir: join(tmp.dir, 'out')}))
      .graph
    graphs.push(neo, out)
    expect([neo.backend, out.backend]).to.deep.equal(['neo4j', 'output'])
    return {neo, out}
  }

  it('gives the same answer for every table and column, every direction and depth', async function () {
    this.timeout(120_000) // some 300 traces, one read transaction per hop on Neo4j
    const {neo, out} = await both()
    const names = [...(await out.names('table')), ...(await out.names('column'))]
    expect(await neo.names('table')).to.deep.equal(await out.names('table'))
    expect(await neo.names('column')).to.deep.equal(await out.names('column'))
    expect(names).to.include.members(['mart.daily', 'mart.daily.total', 'stg.trades.notional', 'loop.a'])
    let edges = 0
    for (const name of names) {
      for (const direction of ['upstream', 'downstream', 'both'] as TraceDirection[]) {
        for (const depth of [undefined, 1]) {
          const a = await trace(neo, {name, direction, depth})
          const b = await trace(out, {name, direction, depth})
          expect(comparable(a), `${name} ${direction} ${depth ?? 'all'}`).to.deep.equal(comparable(b))
          for (const format of ['text', 'dot', 'mermaid'] as const) {
            const strip = (s: string): string => s.replace(/from (Neo4j|the output folder)/, 'from X')
            expect(strip(formatTrace(a, format))).to.equal(strip(formatTrace(b, format)))
          }
          edges += (a.upstream?.length ?? 0) + (a.downstream?.length ?? 0)
        }
      }
    }
    // The comparison is not vacuous: the corpus's traces hold edges, at both levels.
    expect(edges).to.be.greaterThan(100)
    const column = await trace(neo, {name: 'report.pnl.total', direction: 'upstream'})
    expect(column.upstream?.map((e) => `${e.source} ${e.file}:${e.line}`)).to.include.members([
      'mart.daily.total mart/daily.sql:7',
      'stg.trades.notional mart/daily.sql:2',
      'raw.trades.amount etl/stg.sql:1',
    ])
  })

  it('holds the same edges per file, and suggests the same names for an unknown one', async () => {
    const {neo, out} = await both()
    const files = Object.keys(CORPUS)
    for (const level of ['table', 'column'] as const) {
      expect(await neo.fileEdges(level, files)).to.deep.equal(await out.fileEdges(level, files))
    }
    const message = async (g: LineageGraph): Promise<string> =>
      trace(g, {name: 'stg.trade', direction: 'upstream'}).then(
        () => 'no error',
        (e: unknown) => (e as Error).message.replace(/in (the graph|the output folder)/, 'in X'),
      )
    expect(await message(neo)).to.equal(await message(out))
    expect(await message(neo)).to.include('closest: stg.trades')
  })
})
