import {join} from 'node:path'

import {expect} from 'chai'

import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {healthOf, runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {relFor, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'
import {mountTmpfs, requireRoot, type Tmpfs} from './support/tmpfs.js'

describe('fault: the state folder (the ingest ledger) runs out of disk under a running service', function () {
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

  it('says so on /healthz with the path, and ingests the refused batches once there is room, without a restart', async () => {
    disk = mountTmpfs(join(tmp.dir, 'statedisk'), 4 * 1024 * 1024)
    const state = join(disk.dir, 'state')
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '10', LINEAGE_STATE_DIR: state})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 10)
    service = await runService(env)
    const s = service
    const health = () => healthOf(s)
    await waitCaughtUp(env)

    // No room left: the ledger refuses the batches of new and edited files.
    disk.fill(0)
    writeCorpus(raw, 200, 100)
    for (const i of [0, 1]) writeFile(raw, relFor(i), sqlFor(i, 2))
    await waitFor(
      '/healthz names the ledger',
      async () => (await health()).problems.some((p) => p.includes(join(state, 'ledger.sqlite'))),
      60_000,
    )
    const full = await health()
    expect(full.status).to.equal('degraded')
    expect(full.problems.join('\n')).to.match(/batch of \d+ file\(s\) failed: cannot write the ingest ledger .*full/)

    // Room again: the running service ingests what was refused by itself, and is fine again.
    disk.free()
    await waitCaughtUp(env, {timeoutMs: 90_000})
    await waitFor('/healthz ok again', async () => (await health()).status === 'ok', 20_000)
    expect((await health()).problems).to.deep.equal([])
    await s.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
