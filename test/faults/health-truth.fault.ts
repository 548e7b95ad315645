import {expect} from 'chai'

import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {type FaultProxy, startFaultProxy} from '../helpers/fault-proxy.js'
import {ledgerCounts} from '../helpers/ledger.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {healthOf, runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {relFor, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: /healthz tells the truth now, not at the last event', function () {
  this.timeout(240_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  let proxy: FaultProxy | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await service?.stop()
      await proxy?.close()
    },
  })

  it('clears "degraded" when Neo4j answers again with no file event, and says so while a write hangs', async () => {
    proxy = await startFaultProxy(neo.uri)
    const env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri, BATCH_SIZE_THRESHOLD: '5'})
    const raw = env.LINEAGE_RAW_DIR!
    const state = env.LINEAGE_STATE_DIR!
    writeCorpus(raw, 10)
    service = await runService(env, {graphHungMs: 3000})
    const s = service
    const health = () => healthOf(s)
    await waitCaughtUp(env)
    expect(await health()).to.deep.include({status: 'ok', problems: []})

    // Neo4j refuses connections: the edits fail and /healthz says why.
    await proxy.set('refuse')
    for (const i of [0, 1, 2]) writeFile(raw, relFor(i), sqlFor(i, 2))
    await waitFor('3 failed writes', () => ledgerCounts(state).failed === 3, 30_000)
    const down = await health()
    expect(down.status).to.equal('degraded')
    expect(down.problems.join('\n')).to.match(/^Neo4j unreachable: /m)

    // Back, and no file changes: the probe finds it, /healthz clears, and the failed files are written.
    await proxy.set('pass')
    await waitFor('/healthz ok with no file event', async () => (await health()).status === 'ok', 20_000)
    await waitCaughtUp(env, {timeoutMs: 30_000})
    expect(ledgerCounts(state)).to.deep.equal({written: 10})

    // A partition with no resets: the write hangs. Past the hung-write limit /healthz says so, then the
    // probe gets no answer either and calls Neo4j unreachable.
    await proxy.set('blackhole')
    writeFile(raw, relFor(3), sqlFor(3, 2))
    await waitFor(
      '/healthz degraded by a hung write',
      async () => (await health()).problems.some((p) => /a graph write has had no answer for \d+ s/.test(p)),
      30_000,
    )
    await waitFor(
      'the probe calls it unreachable',
      async () => (await health()).problems.some((p) => p.startsWith('Neo4j unreachable: ')),
      30_000,
    )

    // The partition ends (connections reset): the hung write fails into the failed-ingestion file, the probe
    // finds Neo4j again, and the service catches up by itself.
    await proxy.set('pass')
    writeFile(raw, relFor(4), sqlFor(4, 2))
    await waitCaughtUp(env, {timeoutMs: 60_000})
    await waitFor('/healthz ok again', async () => (await health()).status === 'ok', 20_000)
    expect(ledgerCounts(state)).to.deep.equal({written: 10})
    await s.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
