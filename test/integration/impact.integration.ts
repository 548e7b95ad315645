import {expect} from 'chai'

import type {ImpactResult} from '../../src/core/index.js'
import {breakingBranch, impactRun, ingestedRepo, type Repo} from '../helpers/impact.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {useTmpDir} from '../helpers/tmp.js'
import {writeSql} from '../helpers/service.js'

describe('impact on Neo4j and on the output folder (one corpus, both backends, the same output)', function () {
  this.timeout(180_000)
  const neo = useNeo4j()
  const tmp = useTmpDir({prefix: 'lineage-impact-int-'})

  /** watch --once writes the graph and the output folder from the same files. */
  async function repo(): Promise<Repo> {
    const auth = neo.conn.password === '' ? {} : {NEO4J_USER: neo.conn.user, NEO4J_PASSWORD: neo.conn.password}
    return ingestedRepo(tmp.dir, {NEO4J_URI: neo.uri, ...auth})
  }

  /** The same impact run against each backend: [neo4j, output folder]. */
  async function both(
    r: Repo,
    args: string[],
  ): Promise<[{code: number | null; stdout: string}, {code: number | null; stdout: string}]> {
    const a = await impactRun(r, args)
    const b = await impactRun(r, args, {NEO4J_URI: undefined})
    return [a, b]
  }

  it('a breaking branch: the same JSON, text and Markdown, and the same exit, from both', async () => {
    const r = await repo()
    await breakingBranch(r)
    const args = ['--git', 'main...HEAD', '--fail-on', 'removed']
    const [neoJson, outJson] = await both(r, [...args, '--json'])
    expect([neoJson.code, outJson.code]).to.deep.equal([1, 1])
    const a = JSON.parse(neoJson.stdout) as ImpactResult
    const b = JSON.parse(outJson.stdout) as ImpactResult
    expect([a.backend, b.backend]).to.deep.equal(['neo4j', 'output'])
    expect({...a, backend: 'output'}).to.deep.equal(b)
    // Not vacuous: both levels changed, and the downstream reaches the end of the chain.
    expect(a.removed.map((e) => e.level)).to.include.members(['table', 'column'])
    expect(a.added.length).to.be.greaterThan(0)
    expect(a.downstream.map((n) => n.name)).to.include.members(['report.pnl', 'report.pnl.total'])
    for (const format of ['text', 'markdown']) {
      const [x, y] = await both(r, [...args, '--format', format])
      const strip = (s: string): string => s.replace('against Neo4j', 'against the output folder')
      expect(strip(x.stdout)).to.equal(y.stdout)
    }
  })

  it('uncommitted edits given as paths, a deleted file and a no-change edit: the same JSON from both', async () => {
    const r = await repo()
    writeSql(r.raw, 'loop/cycle.sql', 'INSERT INTO loop.a (x) SELECT b.y FROM loop.b b;\n')
    writeSql(r.raw, 'etl/backfill.sql', `-- a comment only\n${await r.git('show', 'main:sql/etl/backfill.sql')}\n`)
    const args = ['sql/loop/cycle.sql', 'sql/etl/backfill.sql', 'sql/mart/weekly.sql', '--json']
    const [x, y] = await both(r, args)
    const a = JSON.parse(x.stdout) as ImpactResult
    expect({...a, backend: 'output'}).to.deep.equal(JSON.parse(y.stdout))
    expect(a.files.find((f) => f.path === 'etl/backfill.sql')).to.deep.include({added: 0, removed: 0})
    expect(a.removed.length).to.be.greaterThan(0)
  })
})
