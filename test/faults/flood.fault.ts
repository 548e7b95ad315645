import {mkdirSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {lightSqlFor, sleep, sqlFileCount, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: floods of file events', function () {
  this.timeout(240_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: async () => service?.stop()})

  it('5,000 files dropped at once: every one in the graph exactly once', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    const raw = env.LINEAGE_RAW_DIR!
    service = await runService(env)
    // Half written straight into the watched folder, half moved in as one prepared folder.
    writeCorpus(raw, 2500, 0, lightSqlFor)
    const staged = join(tmp.dir, 'staged')
    writeCorpus(staged, 2500, 2500, lightSqlFor)
    renameSync(staged, join(raw, 'moved-in'))
    await waitCaughtUp(env, {timeoutMs: 150_000})
    expect(await sqlFileCount(neo)).to.equal(5000)
    expect(service.stats.failed).to.equal(0)
    await service.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })

  it('1,000 saves of one file in a second: the last one wins, and it is not parsed 1,000 times', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 20)
    service = await runService(env)
    await waitCaughtUp(env)
    const before = service.stats.files
    const hot = join(raw, 'hot', 'edited.sql')
    mkdirSync(join(raw, 'hot'))
    const started = Date.now()
    for (let k = 1; k <= 1000; k++) {
      writeFileSync(hot, sqlFor(k % 50, k))
      if (k % 10 === 0) await sleep(Math.max(0, started + k - Date.now()))
    }
    await waitCaughtUp(env)
    const parses = service.stats.files - before
    expect(parses, 'parses of the flooded file').to.be.within(1, 100)
    await service.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })

  it('a file renamed back and forth: only its final name is in the graph', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 20)
    mkdirSync(join(raw, 'left'))
    mkdirSync(join(raw, 'right'))
    writeFile(raw, 'left/moving.sql', sqlFor(900))
    service = await runService(env)
    await waitCaughtUp(env)
    // Between names, between folders, and out of the watched extension and back; some fast, some slow.
    const names = ['left/moving.sql', 'left/moved.sql', 'right/moving.sql', 'right/moving.sql.bak']
    let at = names[0]!
    for (let k = 1; k <= 120; k++) {
      const next = names[k % names.length]!
      renameSync(join(raw, at), join(raw, next))
      at = next
      if (k % 30 === 0) await sleep(700)
    }
    renameSync(join(raw, at), join(raw, 'right/moved.sql'))
    await waitCaughtUp(env)
    const paths = await neo.query("MATCH (f:SqlFile) WHERE f.path CONTAINS 'mov' RETURN f.path AS p")
    expect(paths.map((r) => r.p)).to.deep.equal(['right/moved.sql'])
    await service.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
