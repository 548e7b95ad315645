import {rmSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {readFailures} from '../../src/core/ingest/dead-letter.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {type FaultProxy, startFaultProxy} from '../helpers/fault-proxy.js'
import {ledgerCounts} from '../helpers/ledger.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cliRun} from './support/cli.js'
import {relFor, sleep, sqlFileCount, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: Neo4j slow, then refusing connections, then fine', function () {
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

  it('writes through slowness, keeps what fails while no connection can be had, and loses nothing', async () => {
    proxy = await startFaultProxy(neo.uri)
    const env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri, BATCH_SIZE_THRESHOLD: '10'})
    const raw = env.LINEAGE_RAW_DIR!
    const state = env.LINEAGE_STATE_DIR!
    const failures = (): number => readFailures(env.LINEAGE_FAILED_FILE!).entries.length
    writeCorpus(raw, 20)
    service = await runService(env)
    const s = service
    await waitFor('20 files written', () => ledgerCounts(state).written === 20, 30_000)

    // Slow: every packet waits; writes take longer and still land.
    await proxy.set('slow', 40)
    writeCorpus(raw, 20, 20)
    await waitFor('40 files written', () => ledgerCounts(state).written === 40, 60_000)
    expect(failures(), 'failures while slow').to.equal(0)
    expect(await sqlFileCount(neo)).to.equal(40)

    // Connections accepted and closed at once.
    await proxy.set('reset')
    writeCorpus(raw, 10, 40)
    await waitFor('10 failures while connections are reset', () => ledgerCounts(state).failed === 10, 60_000)

    // Connections accepted and never answered: the driver's pool cannot get one. (After the writer's 5 s fail-fast window,
    // so that the writes really wait for a connection rather than failing fast.)
    await proxy.set('stall')
    await sleep(5500)
    writeCorpus(raw, 10, 50)
    await waitFor('10 more failures while stalled', () => ledgerCounts(state).failed === 20, 90_000)
    expect(failures()).to.equal(20)
    const health = (await (await fetch(`http://127.0.0.1:${s.metricsPort}/healthz`)).json()) as {status: string}
    expect(health.status, 'the service is alive and says what is wrong').to.equal('degraded')

    // Fine again: after the writer's 5 s fail-fast window, writes land; a failed file edited and one deleted meanwhile.
    // The first write that lands ends the outage, and the service ingests again every file whose write failed.
    await proxy.set('pass')
    await sleep(5500)
    writeFile(raw, relFor(45), sqlFor(45, 2))
    rmSync(join(raw, relFor(55)))
    writeCorpus(raw, 1, 60)
    await waitCaughtUp(env, {graph: ['written']})
    expect(ledgerCounts(state)).to.deep.equal({written: 60})
    // What the failed-ingestion file still holds was superseded by those writes: the replay brings nothing back.
    const retry = await cliRun(['retry-failed', '--json'], {
      NEO4J_URI: neo.uri,
      LINEAGE_FAILED_FILE: env.LINEAGE_FAILED_FILE,
      LINEAGE_STATE_DIR: env.LINEAGE_STATE_DIR,
    })
    expect(retry.code, retry.stderr).to.equal(0)
    expect(JSON.parse(retry.stdout)).to.deep.include({replayed: 0, skipped: 20, remaining: 0, fileState: 'removed'})
    await s.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
