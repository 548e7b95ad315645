import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {writeCorpus} from '../../src/bench/corpus.js'
import {cliRun, ROOT} from '../faults/support/cli.js'
import {serviceEnv} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

/** The CI venv with openlineage-python, built by scripts/ci/validate-openlineage.sh. */
const PYTHON = join(ROOT, '.venv-ci', 'bin', 'python')
const CHECK = join(ROOT, 'scripts', 'ci', 'openlineage-check.py')

function check(file: string): {status: number | null; out: string} {
  const res = spawnSync(PYTHON, [CHECK, file], {encoding: 'utf8'})
  return {status: res.status, out: `${res.stdout}${res.stderr}`}
}

describe('exported OpenLineage events, read by the reference client (openlineage-python)', function () {
  this.timeout(180_000)
  const tmp = useTmpDir({prefix: 'lineage-ol-client-'})

  before(function () {
    const probe = spawnSync(PYTHON, ['-c', 'import openlineage.client'], {encoding: 'utf8'})
    if (probe.status === 0) return
    const why = `openlineage-python is not installed in .venv-ci: run bash scripts/ci/validate-openlineage.sh`
    if (process.env.CI === 'true') throw new Error(why)
    this.skip()
  })

  it('every event of the bench corpus is a valid RunEvent to the client', async () => {
    const env = serviceEnv(tmp.dir, {LINEAGE_NAMESPACE: 'bench'})
    const corpus = writeCorpus(env.LINEAGE_RAW_DIR!, {files: 150, seed: 16})
    const ingest = await cliRun(['watch', '--once', '--json'], env)
    expect(ingest.code, ingest.stderr).to.equal(0)
    const file = join(tmp.dir, 'events.ndjson')
    const res = await cliRun(['export', '--to', file, '--json'], env)
    expect(res.code, res.stderr).to.equal(0)
    expect(JSON.parse(res.stdout)).to.deep.include({events: corpus.length, delivered: corpus.length, withoutSql: 0})
    const checked = check(file)
    expect(checked.out).to.include(`${corpus.length} event(s), 0 bad`)
    expect(checked.status, checked.out).to.equal(0)

    // The check can fail: a field renamed, a runId that is no UUID, a facet of another spec version.
    const lines = readFileSync(file, 'utf8').split('\n')
    lines[0] = lines[0]!.replace('"field":', '"column":')
    lines[1] = lines[1]!.replace(/"runId":"[^"]+"/, '"runId":"run-1"')
    lines[2] = lines[2]!.replace('facets/1-1-0/SQLJobFacet', 'facets/1-0-1/SQLJobFacet')
    const broken = join(tmp.dir, 'broken.ndjson')
    writeFileSync(broken, lines.join('\n'))
    const refused = check(broken)
    expect(refused.status, refused.out).to.equal(1)
    expect(refused.out).to.include(`${corpus.length} event(s), 3 bad`)
  })
})
