import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {ImpactResult} from '../../src/core/index.js'
import {breakingBranch, impactRun, ingestedRepo} from '../helpers/impact.js'
import {cliRun} from '../faults/support/cli.js'
import {writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

const show = (e: {level: string; source: string; target: string; file: string}): string =>
  `${e.level} ${e.source} -> ${e.target} ${e.file}`

describe('impact (command, on the output folder of lineage watch --once)', function () {
  this.timeout(120_000)
  const tmp = useTmpDir({prefix: 'lineage-impact-cmd-'})

  it('--git RANGE: the edges a branch removes and adds, everything downstream, and --fail-on removed exits 1', async () => {
    const repo = await ingestedRepo(tmp.dir)
    await breakingBranch(repo)
    const res = await impactRun(repo, ['--git', 'main...HEAD', '--fail-on', 'removed', '--json'])
    expect(res.code, res.stderr).to.equal(1)
    const r = JSON.parse(res.stdout) as ImpactResult
    expect(r).to.deep.include({backend: 'output', range: 'main...HEAD', changed: true})
    // Only SQL files inside the watched folder; the deleted one is missing, the new one present.
    expect(r.files.map((f) => `${f.path} ${f.state}`)).to.deep.equal([
      'etl/stg.sql present',
      'mart/weekly.sql missing',
      'report/monthly.sql present',
    ])
    expect(r.removed.filter((e) => e.level === 'table').map(show)).to.deep.equal([
      'table mart.daily -> mart.weekly mart/weekly.sql',
      'table ref.fx -> stg.trades etl/stg.sql',
    ])
    expect(r.added.filter((e) => e.level === 'table').map(show)).to.deep.equal([
      'table mart.daily -> report.monthly report/monthly.sql',
    ])
    expect(r.removed.map(show)).to.include('column ref.fx.rate -> stg.trades.notional etl/stg.sql')
    // Downstream of stg.trades, to the end of the chain, and of the new and deleted reports.
    const tables = r.downstream.filter((n) => n.level === 'table').map((n) => `${n.name} ${n.depth}`)
    expect(tables).to.deep.equal(['mart.weekly 1', 'report.monthly 1', 'stg.trades 1', 'mart.daily 2', 'report.pnl 3'])
    expect(r.downstream.map((n) => n.name)).to.include.members(['mart.daily.total', 'report.pnl.total'])

    // The same range without --fail-on is exit 0; --fail-on changed is 1; text names the change.
    const text = await impactRun(repo, ['--git', 'main...HEAD'])
    expect(text.code, text.stderr).to.equal(0)
    expect(text.stdout).to.include('changed in main...HEAD, against the output folder')
    expect(text.stdout).to.include('removed:\n  table   mart.weekly <- mart.daily  mart/weekly.sql:1\n')
    expect(text.stdout).to.include('  table   stg.trades <- ref.fx  etl/stg.sql:1\n')
    expect((await impactRun(repo, ['--git', 'main...HEAD', '--fail-on', 'changed'])).code).to.equal(1)

    const md = await impactRun(repo, ['--git', 'main...HEAD', '--format', 'markdown'])
    expect(md.stdout).to.match(/^## Lineage impact\n/)
    expect(md.stdout).to.include('| removed | table | `stg.trades` | `ref.fx` | `etl/stg.sql:1` |')
  })

  it('an edit that keeps the lineage (comments, whitespace) is "no lineage change", exit 0 even with --fail-on changed', async () => {
    const repo = await ingestedRepo(tmp.dir)
    await repo.git('checkout', '-q', '-b', 'cosmetic')
    const sql = (await repo.git('show', 'main:sql/mart/daily.sql')).replace(
      'SELECT d.total',
      '-- the total\n  SELECT   d.total',
    )
    writeSql(repo.raw, 'mart/daily.sql', `-- reformatted\n\n${sql}\n`)
    await repo.git('commit', '-q', '-am', 'comments')
    const res = await impactRun(repo, ['--git', 'main...HEAD', '--fail-on', 'changed'])
    expect(res.code, res.stderr).to.equal(0)
    expect(res.stdout).to.include('no lineage change')
    const json = JSON.parse((await impactRun(repo, ['--git', 'main...HEAD', '--json'])).stdout) as ImpactResult
    expect(json).to.deep.include({changed: false, added: [], removed: [], downstream: []})
    expect(json.files.map((f) => f.path)).to.deep.equal(['mart/daily.sql'])
  })

  it('takes files as paths: a missing one counts as deleted; uncommitted edits count', async () => {
    const repo = await ingestedRepo(tmp.dir)
    writeSql(repo.raw, 'loop/cycle.sql', 'INSERT INTO loop.a (x) SELECT b.x FROM loop.b b;\n')
    const res = await impactRun(repo, ['sql/loop/cycle.sql', join(repo.raw, 'mart', 'gone.sql'), '--json'])
    expect(res.code, res.stderr).to.equal(0)
    const r = JSON.parse(res.stdout) as ImpactResult
    expect(r.files.map((f) => `${f.path} ${f.state}`)).to.deep.equal([
      'loop/cycle.sql present',
      'mart/gone.sql missing',
    ])
    expect(r.removed.filter((e) => e.level === 'table').map(show)).to.deep.equal([
      'table loop.a -> loop.b loop/cycle.sql',
    ])
    expect(r.added).to.deep.equal([])
  })

  it("parses a changed file with its folder's .lineage.json, as watch recorded it: no false change", async () => {
    const repo = await ingestedRepo(tmp.dir)
    writeFileSync(join(repo.raw, 'etl', '.lineage.json'), JSON.stringify({defaultSchema: 'stg'}))
    writeSql(repo.raw, 'etl/bare.sql', 'INSERT INTO positions (id) SELECT p.id FROM trades p;\n')
    const ingest = await cliRun(['watch', repo.raw, repo.env.LINEAGE_OUT_DIR!, '--once', '--json'], repo.env)
    expect(ingest.code, ingest.stderr).to.equal(0)
    const res = await impactRun(repo, ['sql/etl/bare.sql', '--json', '--fail-on', 'changed'])
    expect(res.code, res.stderr).to.equal(0)
    expect(JSON.parse(res.stdout)).to.deep.include({changed: false, added: [], removed: []})
    // The same file without its folder's defaults is a change of every edge: proof the file was read.
    writeFileSync(join(repo.raw, 'etl', '.lineage.json'), '{}')
    const without = JSON.parse((await impactRun(repo, ['sql/etl/bare.sql', '--json'])).stdout) as ImpactResult
    expect(without.removed.filter((e) => e.level === 'table').map(show)).to.deep.equal([
      'table stg.trades -> stg.positions etl/bare.sql',
    ])
  })

  it('a tool failure never exits 1: 64 for a bad range or file, 70 for anything else', async () => {
    const repo = await ingestedRepo(tmp.dir)
    const bad = await impactRun(repo, ['--git', 'no-such-branch...HEAD', '--fail-on', 'removed', '--json'])
    expect(bad.code).to.equal(64)
    expect(JSON.parse(bad.stdout)).to.deep.nested.include({'error.code': 'E_USAGE'})
    expect((await impactRun(repo, ['--git', '--output=x'])).code).to.equal(64)
    expect((await impactRun(repo, ['README.md'])).code).to.equal(64) // outside the watched folder
    expect((await impactRun(repo, [])).code).to.equal(64)
    // The index beside the parse cache cannot be created (its folder is a file): E_CACHE, which is 1 elsewhere.
    const blocker = join(tmp.dir, 'blocked')
    writeFileSync(blocker, '')
    const broken = await impactRun(repo, ['--git', 'HEAD', '--json'], {
      LINEAGE_CACHE_FILE: join(blocker, 'cache', 'parse-cache.sqlite'),
    })
    expect(broken.code, broken.stderr).to.equal(70)
    expect((JSON.parse(broken.stdout) as {error: {code: string; exit: number}}).error).to.deep.include({
      code: 'E_CACHE',
      exit: 70,
    })
  })
})
