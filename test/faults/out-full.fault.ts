import {readdirSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {writeOutputRecord} from '../../src/core/ingest/file-task.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {extractLineage} from '../../src/core/sql/index.js'
import {listFiles} from '../../src/core/util/fs.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {healthOf, runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {relFor, sqlFileCount, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'
import {mountTmpfs, requireRoot, type Tmpfs} from './support/tmpfs.js'

/** A file whose output alone is larger than the room left on the disk. */
function bigSql(statements: number): string {
  return Array.from({length: statements}, (_, i) => sqlFor(1000 + i)).join('')
}

describe('fault: the output folder runs out of disk under a running service', function () {
  this.timeout(240_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  let disk: Tmpfs | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await service?.stop()
      disk?.unmount()
    },
  })
  before(function () {
    requireRoot(this)
  })

  it('an output longer than the room left is ENOSPC and leaves nothing, never a short file', () => {
    disk = mountTmpfs(join(tmp.dir, 'short'), 1024 * 1024)
    disk.fill(16 * 1024)
    const outFile = join(disk.dir, 'out', 'big.sql.lineage.json')
    const lineage = extractLineage(bigSql(300), {path: 'big.sql', dialect: 'ansi'})
    const error = writeOutputRecord(outFile, {contentHash: 'h', size: 1, lineage})
    expect(error?.code, error?.message).to.equal('ENOSPC')
    expect(listFiles(join(disk.dir, 'out'))).to.deep.equal([])
    disk.unmount()
    disk = undefined
  })

  it('still writes the graph, counts and logs the failures, leaves no temp file, and writes the outputs once there is room', async () => {
    disk = mountTmpfs(join(tmp.dir, 'outdisk'), 2 * 1024 * 1024)
    const out = join(disk.dir, 'out')
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '10', LINEAGE_OUT_DIR: out})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 10)
    service = await runService(env)
    const s = service
    await waitCaughtUp(env)

    disk.fill(24 * 1024)
    writeCorpus(raw, 60, 10)
    writeFile(raw, 'big/large.sql', bigSql(300))
    writeFile(raw, relFor(0), sqlFor(0, 2))
    // The graph does not wait for the outputs: every file is written to it, and in the ledger.
    await waitCaughtUp(env, {timeoutMs: 90_000})
    expect(await sqlFileCount(neo)).to.equal(71)
    expect(s.stats.failed, 'outputs that did not fit are counted failures').to.be.greaterThan(0)
    const outputs = (): string[] => listFiles(out).map((f) => f.rel)
    expect(
      outputs().filter((f) => !f.endsWith('.lineage.json')),
      'no temp file left',
    ).to.deep.equal([])
    expect(outputs().length, 'some outputs did not fit').to.be.lessThan(71)
    const health = () => healthOf(s)
    const full = await health()
    expect(full.status, 'a full output disk is degraded').to.equal('degraded')
    // The whole text in the message: chai cuts the actual value short, and that hid a rare other reason once.
    const problems = full.problems.join('\n')
    expect(problems, `the problem names the folder and the reason: ${problems}`).to.match(
      new RegExp(`output folder ${out}: \\d+ output file\\(s\\) not written \\(ENOSPC`),
    )

    // Room again: the running service writes the missing outputs by itself, and says it is fine again.
    disk.free()
    await waitFor('every output written', () => outputs().length === 71, 60_000)
    await waitFor('/healthz ok again', async () => (await health()).status === 'ok', 10_000)
    expect((await health()).problems).to.deep.equal([])
    expect(readdirSync(disk.dir).sort()).to.deep.equal(['out'])
    await s.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: out})
  })
})
