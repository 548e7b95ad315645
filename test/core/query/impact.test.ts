import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {expect} from 'chai'

import {
  computeImpact,
  diffEdges,
  failsOn,
  impact,
  isLineageError,
  openLineageGraph,
  type ImpactEdge,
  type ImpactResult,
  type LineageGraph,
} from '../../../src/core/index.js'
import {useTmpDir} from '../../helpers/tmp.js'
import {CORPUS, lineageOf, writeOutputs} from './corpus.js'

const edge = (source: string, target: string, file = 'a.sql', line = 1) => ({source, target, file, line})
const show = (e: ImpactEdge): string => `${e.level} ${e.source} -> ${e.target} @ ${e.file}:${e.line}`
const downstream = (r: Pick<ImpactResult, 'downstream'>): string[] =>
  r.downstream.map((n) => `${n.level} ${n.name} ${n.depth}`)

describe('impact: diffEdges', () => {
  it('compares by source, target and file, not line: a moved statement is no change', () => {
    const before = [edge('s.a', 't.x', 'a.sql', 1), edge('s.b', 't.x', 'a.sql', 2)]
    const after = [edge('s.a', 't.x', 'a.sql', 5), edge('s.b', 't.x', 'a.sql', 9)]
    expect(diffEdges(before, after)).to.deep.equal({added: [], removed: []})
  })

  it('reports the edges only before as removed at their old line, only after as added at their new one', () => {
    const before = [edge('s.a', 't.x', 'a.sql', 1), edge('s.b', 't.x', 'a.sql', 3)]
    const after = [edge('s.a', 't.x', 'a.sql', 2), edge('s.c', 't.x', 'a.sql', 7), edge('s.c', 't.x', 'a.sql', 4)]
    expect(diffEdges(before, after)).to.deep.equal({
      added: [edge('s.c', 't.x', 'a.sql', 4)], // a pair made twice is one edge, at its first line
      removed: [edge('s.b', 't.x', 'a.sql', 3)],
    })
  })

  it('tells the same pair in another file apart', () => {
    const diff = diffEdges([edge('s.a', 't.x', 'a.sql')], [edge('s.a', 't.x', 'b.sql')])
    expect(diff.added.map((e) => e.file)).to.deep.equal(['b.sql'])
    expect(diff.removed.map((e) => e.file)).to.deep.equal(['a.sql'])
  })

  it('failsOn: removed needs a removal, changed any edge, none never', () => {
    const one = [{level: 'table' as const, ...edge('s.a', 't.x')}]
    expect(failsOn({added: one, removed: []}, 'removed')).to.equal(false)
    expect(failsOn({added: one, removed: []}, 'changed')).to.equal(true)
    expect(failsOn({added: [], removed: one}, 'removed')).to.equal(true)
    expect(failsOn({added: one, removed: one}, undefined)).to.equal(false)
    expect(failsOn({added: [], removed: []}, 'changed')).to.equal(false)
  })
})

describe('impact over the output folder', () => {
  const tmp = useTmpDir({prefix: 'lineage-impact-'})
  let graph: LineageGraph

  beforeEach(async () => {
    writeOutputs(join(tmp.dir, 'out'))
    ;({graph} = await openLineageGraph({neo4j: undefined, namespace: 'test', outDir: join(tmp.dir, 'out')}))
  })
  afterEach(async () => {
    await graph.close()
  })

  it('finds no change when the file parses to the same edges (comments and blank lines added)', async () => {
    const sql = `-- moved down\n\n${CORPUS['etl/stg.sql']!}`
    const r = await computeImpact(graph, [{path: 'etl/stg.sql', lineage: lineageOf('etl/stg.sql', sql)}])
    expect(r).to.deep.include({changed: false, added: [], removed: [], downstream: []})
    expect(r.files).to.deep.equal([{path: 'etl/stg.sql', state: 'present', status: 'ok', added: 0, removed: 0}])
  })

  it('a changed source: edges removed and added, and everything downstream to the end, by depth', async () => {
    const sql = CORPUS['etl/stg.sql']!.replace('t.amount * f.rate', 't.amount')
    const r = await computeImpact(graph, [{path: 'etl/stg.sql', lineage: lineageOf('etl/stg.sql', sql)}])
    expect(r.changed).to.equal(true)
    expect(r.added).to.deep.equal([])
    expect(r.removed.map(show)).to.deep.equal(['column ref.fx.rate -> stg.trades.notional @ etl/stg.sql:1'])
    // Column level only: the table edges stg.trades <- raw.trades, ref.fx (the join) stay.
    expect(downstream(r)).to.deep.equal([
      'column stg.trades.notional 1',
      'column mart.daily.total 2',
      'column mart.weekly.total 3',
      'column report.pnl.total 3',
    ])
    expect(r.files[0]).to.deep.include({removed: 1, added: 0})
  })

  it('a deleted file removes every edge it made; downstream of those is listed', async () => {
    const r = await computeImpact(graph, [{path: 'mart/weekly.sql', lineage: undefined}])
    expect(r.removed.map(show)).to.deep.equal([
      'table mart.daily -> mart.weekly @ mart/weekly.sql:1',
      'column mart.daily.total -> mart.weekly.total @ mart/weekly.sql:1',
    ])
    expect(r.files).to.deep.equal([
      {path: 'mart/weekly.sql', state: 'missing', status: 'missing', added: 0, removed: 2},
    ])
    expect(downstream(r)).to.deep.equal(['table mart.weekly 1', 'column mart.weekly.total 1'])
  })

  it('a new file adds every edge; downstream follows the new edges into the graph and through each other', async () => {
    const sql =
      'INSERT INTO stg.extra (id) SELECT x.id FROM raw.extra x;\nINSERT INTO raw.trades (id) SELECT e.id FROM stg.extra e;\n'
    const r = await computeImpact(graph, [{path: 'new/extra.sql', lineage: lineageOf('new/extra.sql', sql)}])
    expect(r.removed).to.deep.equal([])
    expect(r.added.filter((e) => e.level === 'table').map(show)).to.deep.equal([
      'table stg.extra -> raw.trades @ new/extra.sql:2',
      'table raw.extra -> stg.extra @ new/extra.sql:1',
    ])
    const tables = r.downstream.filter((n) => n.level === 'table').map((n) => `${n.name} ${n.depth}`)
    expect(tables).to.deep.equal([
      'raw.trades 1',
      'stg.extra 1',
      'stg.trades 2',
      'mart.daily 3',
      'mart.weekly 4',
      'report.pnl 4',
    ])
  })

  it('ends at a cycle', async () => {
    const sql = 'INSERT INTO loop.a (x) SELECT b.y FROM loop.b b;\nINSERT INTO loop.b (x) SELECT a.x FROM loop.a a;\n'
    const r = await computeImpact(graph, [{path: 'loop/cycle.sql', lineage: lineageOf('loop/cycle.sql', sql)}])
    expect(r.removed.map(show)).to.deep.equal(['column loop.b.x -> loop.a.x @ loop/cycle.sql:1'])
    expect(r.added.map(show)).to.deep.equal(['column loop.b.y -> loop.a.x @ loop/cycle.sql:1'])
    expect(downstream(r)).to.deep.equal(['column loop.a.x 1', 'column loop.b.x 2'])
  })

  it('reads the files from the watched folder; a file given but missing counts as deleted', async () => {
    const raw = join(tmp.dir, 'raw')
    for (const [path, sql] of Object.entries(CORPUS)) {
      mkdirSync(dirname(join(raw, path)), {recursive: true})
      writeFileSync(join(raw, path), sql)
    }
    rmSync(join(raw, 'mart/weekly.sql'))
    const options = {rawDir: raw, extensions: ['.sql'], dialect: 'ansi', maxBytes: 1 << 20, deadlineMs: 10_000}
    const r = await impact(graph, {...options, paths: [join(raw, 'mart/weekly.sql'), join(raw, 'etl/stg.sql')]})
    expect(r.files.map((f) => `${f.path} ${f.state}`)).to.deep.equal(['etl/stg.sql present', 'mart/weekly.sql missing'])
    expect(r.removed).to.have.length(2)
    expect(r.range).to.equal(null)
    const refused = async (paths: string[]): Promise<string> =>
      impact(graph, {...options, paths}).then(
        () => 'no error',
        (e: unknown) => (isLineageError(e) ? `${e.code} ${e.message}` : String(e)),
      )
    expect(await refused([join(tmp.dir, 'elsewhere.sql')])).to.match(/^E_USAGE .* is not inside the watched folder/)
    expect(await refused([join(raw, 'notes.txt')])).to.match(/^E_USAGE .* not a file the service ingests/)
    expect(await refused([])).to.match(/^E_USAGE no changed files/)
  })
})
