import {mkdirSync, renameSync, rmdirSync} from 'node:fs'

import {expect} from 'chai'

import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {relFor, sleep, sqlFileCount, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

interface Health {
  code: number
  status: string
  problems: string[]
}

describe('fault: the watched folder moved away, replaced by an empty one, and back', function () {
  this.timeout(240_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await service?.stop()
    },
  })

  it('retracts nothing, says why on /healthz, holds a mass retraction, and watches the folder again', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '10'})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 20)
    service = await runService(env)
    const s = service
    await waitCaughtUp(env)
    const health = async (): Promise<Health> => {
      const res = await fetch(`http://127.0.0.1:${String(s.metricsPort)}/healthz`)
      const body = (await res.json()) as {status: string; problems?: string[]}
      return {code: res.status, status: body.status, problems: body.problems ?? []}
    }

    // Moved away (a deploy, an unmount): its files only look deleted.
    renameSync(raw, `${raw}.away`)
    await waitFor('/healthz to say the folder is gone', async () => (await health()).code === 503, 20_000)
    expect((await health()).problems.join()).to.match(/the watched folder .* is gone/)
    await sleep(3000) // what a retraction would have had time to do
    expect(await sqlFileCount(neo), 'nothing retracted').to.equal(20)
    writeFile(`${raw}.away`, relFor(3), sqlFor(3, 2)) // edited meanwhile

    // Back: re-scanned (the edit is found) and watched again (a new file is found).
    renameSync(`${raw}.away`, raw)
    await waitFor('/healthz ok again', async () => (await health()).code === 200, 20_000)
    writeCorpus(raw, 2, 50)
    await waitCaughtUp(env)
    expect(await sqlFileCount(neo)).to.equal(22)

    // Replaced by an empty folder: every file would go; the reconcile holds the retraction back.
    renameSync(raw, `${raw}.old`)
    mkdirSync(raw)
    await waitFor(
      'the mass retraction held',
      async () => (await health()).problems.some((p) => p.includes('would be retracted')),
      20_000,
    )
    expect((await health()).code).to.equal(503)
    await sleep(2000)
    expect(await sqlFileCount(neo), 'nothing retracted').to.equal(22)

    // The real folder back: nothing to retract, healthy, everything as a clean run has it.
    rmdirSync(raw)
    renameSync(`${raw}.old`, raw)
    await waitFor('/healthz ok again', async () => (await health()).code === 200, 20_000)
    await waitCaughtUp(env)
    await s.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
