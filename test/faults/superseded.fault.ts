import {rmSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {readFailures} from '../../src/core/ingest/dead-letter.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {type FaultProxy, startFaultProxy} from '../helpers/fault-proxy.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cliRun} from './support/cli.js'
import {relFor, sleep, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: a failed write superseded by a later successful one is never replayed over it', function () {
  this.timeout(120_000)
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

  it('upserts that failed, then a deletion or a newer edit that landed: retry-failed brings nothing back', async () => {
    proxy = await startFaultProxy(neo.uri)
    const env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 6)
    service = await runService(env)
    await waitCaughtUp(env)

    // Neo4j unreachable: four edits fail and go to the failed-ingestion file.
    await proxy.set('refuse')
    for (const i of [0, 1, 2, 3]) writeFile(raw, relFor(i), sqlFor(i, 2))
    await waitCaughtUp(env, {graph: ['written', 'failed']})
    expect(
      readFailures(env.LINEAGE_FAILED_FILE!)
        .entries.map((e) => e.path)
        .sort(),
    ).to.deep.equal([0, 1, 2, 3].map(relFor).sort())
    await service.stop()

    // Back. File 2 deleted while the service is stopped, and its ledger lost (a damaged ledger is moved
    // aside, so it no longer knows what failed): the start-up reconcile retracts file 2 from what the output
    // folder holds, and ingests the others again (file 3 too). Then file 0 deleted, file 1 edited again.
    await proxy.set('pass')
    rmSync(join(env.LINEAGE_STATE_DIR!, 'ledger.sqlite'))
    rmSync(join(raw, relFor(2)))
    service = await runService(env)
    await sleep(500)
    rmSync(join(raw, relFor(0)))
    writeFile(raw, relFor(1), sqlFor(1, 3))
    await waitCaughtUp(env)
    const {entries, markers} = readFailures(env.LINEAGE_FAILED_FILE!)
    expect(entries).to.have.length(4)
    expect(markers.map((m) => m.path).sort(), 'superseded markers').to.include.members([relFor(0), relFor(2)])
    // Markers are not failures: the backlog counts the four entries only.
    await sleep(5100)
    const metrics = await (await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`)).text()
    expect(metrics).to.match(/^failed_ingestion_backlog 4$/m)
    await service.stop()
    service = undefined

    const dry = await cliRun(['retry-failed', '--dry-run', '--json'], {...env, NEO4J_URI: neo.uri})
    expect(JSON.parse(dry.stdout)).to.deep.include({replayed: 0, skipped: 4})
    const retry = await cliRun(['retry-failed', '--json'], {...env, NEO4J_URI: neo.uri})
    expect(retry.code, retry.stderr).to.equal(0)
    const result = JSON.parse(retry.stdout) as {replayed: number; skippedBy: Record<string, number>; fileState: string}
    expect(result).to.deep.include({replayed: 0, fileState: 'removed'})
    expect(result.skippedBy.superseded).to.equal(4)
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
