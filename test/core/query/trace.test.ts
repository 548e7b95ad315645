import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {closestNames, isLineageError, openLineageGraph, trace, type LineageGraph} from '../../../src/core/index.js'
import {formatTrace} from '../../../src/ui/trace.js'
import {useTmpDir} from '../../helpers/tmp.js'
import {writeOutputs} from './corpus.js'

const at = (e: {source: string; target: string; file: string; line: number}): string =>
  `${e.source} -> ${e.target} @ ${e.file}:${e.line}`

describe('trace over the output folder', () => {
  const tmp = useTmpDir({prefix: 'lineage-trace-'})
  let graph: LineageGraph

  beforeEach(async () => {
    writeOutputs(join(tmp.dir, 'out'))
    ;({graph} = await openLineageGraph({neo4j: undefined, namespace: 'test', outDir: join(tmp.dir, 'out')}))
  })

  it('follows table lineage upstream to the end, each edge with the file and line that makes it', async () => {
    const result = await trace(graph, {name: 'report.pnl', direction: 'upstream'})
    expect(result.level).to.equal('table')
    expect(result.downstream).to.equal(undefined)
    // Sorted by target, then source, then file and line.
    expect(result.upstream?.map(at)).to.deep.equal([
      'stg.trades -> mart.daily @ mart/daily.sql:2',
      'mart.daily -> report.pnl @ mart/daily.sql:7',
      'raw.trades -> stg.trades @ etl/stg.sql:1',
      'raw.trades_archive -> stg.trades @ etl/backfill.sql:2',
      'ref.fx -> stg.trades @ etl/stg.sql:1',
    ])
  })

  it('follows column lineage through intermediate tables, both ways', async () => {
    const result = await trace(graph, {name: 'mart.daily.total', direction: 'both'})
    expect(result.level).to.equal('column')
    expect(result.upstream?.map(at)).to.deep.equal([
      'stg.trades.notional -> mart.daily.total @ mart/daily.sql:2',
      'raw.trades.amount -> stg.trades.notional @ etl/stg.sql:1',
      'raw.trades_archive.amount -> stg.trades.notional @ etl/backfill.sql:2',
      'ref.fx.rate -> stg.trades.notional @ etl/stg.sql:1',
    ])
    expect(result.downstream?.map(at)).to.deep.equal([
      'mart.daily.total -> mart.weekly.total @ mart/weekly.sql:1',
      'mart.daily.total -> report.pnl.total @ mart/daily.sql:7',
    ])
  })

  it('stops at --depth and at a cycle', async () => {
    const shallow = await trace(graph, {name: 'report.pnl', direction: 'upstream', depth: 2})
    expect(shallow.upstream?.map((e) => e.source)).to.have.members(['mart.daily', 'stg.trades'])
    const loop = await trace(graph, {name: 'loop.a', direction: 'downstream'})
    expect(loop.downstream?.map(at)).to.deep.equal([
      'loop.b -> loop.a @ loop/cycle.sql:1',
      'loop.a -> loop.b @ loop/cycle.sql:2',
    ])
    expect(formatTrace(loop, 'text')).to.include('loop.a  loop/cycle.sql:1  (cycle)')
  })

  it('draws a text tree with file:line on every edge', async () => {
    const text = formatTrace(await trace(graph, {name: 'mart.daily', direction: 'upstream'}), 'text')
    expect(text.split('\n').slice(2)).to.deep.equal([
      'upstream: derives from',
      'mart.daily',
      '└── stg.trades  mart/daily.sql:2',
      '    ├── raw.trades  etl/stg.sql:1',
      '    ├── raw.trades_archive  etl/backfill.sql:2',
      '    └── ref.fx  etl/stg.sql:1',
    ])
  })

  it('answers an unknown name with exit 64 and the closest names', async () => {
    const error: unknown = await trace(graph, {name: 'mart.dialy', direction: 'upstream'}).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isLineageError(error) && error.exit).to.equal(64)
    expect((error as Error).message).to.include('closest: mart.daily')
    expect((await closestNames(graph, 'notionl'))[0]).to.equal('stg.trades.notional')
  })

  it('skips and names an output file that is not a lineage record', async () => {
    mkdirSync(join(tmp.dir, 'out', 'bad'), {recursive: true})
    writeFileSync(join(tmp.dir, 'out', 'bad', 'x.sql.lineage.json'), '{"version": 1, "lineage": 42}')
    writeFileSync(join(tmp.dir, 'out', 'bad', 'y.sql.lineage.json.1234'), 'half-written temp file')
    const opened = await openLineageGraph({neo4j: undefined, namespace: 'test', outDir: join(tmp.dir, 'out')})
    expect(opened.invalid).to.deep.equal([join('bad', 'x.sql.lineage.json')])
    expect(opened.files).to.equal(5)
  })

  it('fails with exit 64 on an output folder that does not exist', async () => {
    const error: unknown = await openLineageGraph({
      neo4j: undefined,
      namespace: 'test',
      outDir: join(tmp.dir, 'nope'),
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    // Not isLineageError: under mocha's tsx hook a dynamically imported module is a second instance of errors.ts.
    expect((error as {code?: unknown}).code, String(error)).to.equal('E_USAGE')
    expect((error as {exit?: unknown}).exit).to.equal(64)
  })
})

describe('trace pictures', () => {
  const tmp = useTmpDir({prefix: 'lineage-trace-dot-'})

  it('prints DOT that Graphviz renders, with hostile names kept verbatim', async function () {
    if (spawnSync('dot', ['-V']).error) {
      const message = 'Graphviz `dot` is missing: run scripts/ci/apt-ensure.sh dot graphviz'
      if (process.env.CI === 'true') throw new Error(message)
      process.stderr.write(`\nSKIPPED: ${message}\n`)
      this.skip()
    }
    writeOutputs(join(tmp.dir, 'out'), {
      'q.sql':
        'INSERT INTO "we""ird".t (a) SELECT s.a FROM "src\\dir".s s;\nINSERT INTO mart.daily (a) SELECT t.a FROM "we""ird".t t;\n',
    })
    const {graph} = await openLineageGraph({neo4j: undefined, namespace: 'test', outDir: join(tmp.dir, 'out')})
    const result = await trace(graph, {name: 'mart.daily', direction: 'upstream'})
    expect(result.upstream).to.have.length(2)
    const dot = formatTrace(result, 'dot')
    const svg = execFileSync('dot', ['-Tsvg'], {input: dot, encoding: 'utf8'})
    for (const name of result.upstream?.map((e) => e.source) ?? []) {
      expect(svg).to.include(`>${escapeXml(name)}</text>`)
    }
    expect(svg).to.include('q.sql:2')
  })

  it('prints a Mermaid flowchart naming every node and edge', async () => {
    writeOutputs(join(tmp.dir, 'out'))
    const {graph} = await openLineageGraph({neo4j: undefined, namespace: 'test', outDir: join(tmp.dir, 'out')})
    const mermaid = formatTrace(await trace(graph, {name: 'mart.weekly', direction: 'upstream', depth: 1}), 'mermaid')
    expect(mermaid.split('\n')).to.deep.equal([
      'flowchart LR',
      '  n0["mart.weekly"]',
      '  n1["mart.daily"]',
      '  n1 -->|"mart/weekly.sql:1"| n0',
      '  style n0 stroke-width:3px',
    ])
  })
})

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
