import {randomBytes} from 'node:crypto'
import {closeSync, fstatSync, openSync, readdirSync, writeFileSync, writeSync} from 'node:fs'
import {basename, dirname} from 'node:path'

import {expect} from 'chai'

import {openDatabase} from '../../src/core/util/sqlite.js'
import {editCachedPayloads} from '../helpers/cache-edit.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {ledgerCounts} from '../helpers/ledger.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cli, cliRun} from './support/cli.js'
import {relFor, sleep, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: the parse cache damaged or cleared under a running service', function () {
  this.timeout(180_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: async () => service?.stop()})

  const cacheCheck = async (env: NodeJS.ProcessEnv): Promise<{code: number | null; stdout: string}> =>
    cliRun(['cache', 'stats', '--check', '--json'], {LINEAGE_CACHE_FILE: env.LINEAGE_CACHE_FILE})

  it('overwritten with random bytes (whole file, then pages behind an intact header): moved aside, nothing lost', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '10'})
    const raw = env.LINEAGE_RAW_DIR!
    const cache = env.LINEAGE_CACHE_FILE!
    const written = (n: number) => () => ledgerCounts(env.LINEAGE_STATE_DIR!).written === n
    writeCorpus(raw, 40)
    service = await runService(env)
    await waitFor('40 files in', written(40), 60_000)
    const s = service

    // 1. The whole file becomes noise. New files, and copies of known content (cache hits, were it healthy).
    writeFileSync(cache, randomBytes(256 * 1024))
    await sleep(1100) // the cache checks its file's header at most once a second
    writeCorpus(raw, 10, 100)
    for (let i = 0; i < 10; i++) writeFile(raw, `copies/c${i}.sql`, sqlFor(i))
    await waitFor('the next 20 files in', written(60), 60_000)

    // 2. Noise behind a valid header, on pages in use (checkpointed out of the WAL first), so SQLite meets it.
    const db = openDatabase(cache)
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.close()
    const fd = openSync(cache, 'r+')
    const size = fstatSync(fd).size
    writeSync(fd, randomBytes(size - 4096), 0, size - 4096, 4096)
    closeSync(fd)
    for (let i = 0; i < 10; i++) writeFile(raw, `copies/d${i}.sql`, sqlFor(100 + i))
    for (const i of [20, 21, 22]) writeFile(raw, relFor(i), sqlFor(i, 2))
    await waitCaughtUp(env)

    expect(s.stats.failed, 'files failed').to.equal(0)
    const aside = readdirSync(dirname(cache)).filter((f) => /\.corrupt-[0-9TZ]+(-\d+)?$/.test(f))
    expect(aside, 'damaged copies moved aside').to.have.length.of.at.least(1)
    expect(aside.every((f) => f.startsWith(basename(cache)))).to.equal(true)
    await s.stop()
    service = undefined
    const check = await cacheCheck(env)
    expect(check.code, check.stdout).to.equal(0)
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })

  it('a same-length change inside cached lineage: found by --check, never reaches the graph or output', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '10'})
    const raw = env.LINEAGE_RAW_DIR!
    const cache = env.LINEAGE_CACHE_FILE!
    writeCorpus(raw, 30)
    service = await runService(env)
    await waitFor('30 files in', () => ledgerCounts(env.LINEAGE_STATE_DIR!).written === 30, 60_000)
    const s = service

    // One letter of a table name changed in three cached payloads: same length, valid JSON, pages intact.
    const edited = [3, 7, 11]
    for (const i of edited)
      expect(editCachedPayloads(cache, `stg.t${i}`, `stg.q${i}`), `entry of file ${i}`).to.equal(1)
    const check = await cacheCheck(env)
    expect(check.code, check.stdout).to.equal(1)
    const body = JSON.parse(check.stdout) as {error: {code: string; details?: {badEntries: number}}}
    expect(body.error).to.deep.include({code: 'E_CACHE_CORRUPT', details: {badEntries: 3}})

    // The same content at new paths: looked up by content hash, so the edited entries are read. (Saving a known
    // path again with the same content would not read the cache: the ledger already has its hash.)
    for (const i of edited) writeFile(raw, `copies/c${i}.sql`, sqlFor(i))
    writeFile(raw, 'copies/c0.sql', sqlFor(0)) // an untouched entry: a plain hit
    await waitCaughtUp(env)
    expect(s.stats.failed, 'files failed').to.equal(0)
    const metrics = await (await fetch(`http://127.0.0.1:${String(s.metricsPort)}/metrics`)).text()
    expect(metrics).to.match(/^parse_cache_corrupt_entries_total 3$/m)
    await s.stop()
    service = undefined

    // The bad rows were replaced by the re-parse.
    const after = await cacheCheck(env)
    expect(after.code, after.stdout).to.equal(0)
    expect(JSON.parse(after.stdout)).to.deep.include({check: {ok: true, problems: [], badEntries: 0}})
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })

  it('lineage cache clear at the same moment as ingestion changes nothing but the cache', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '20'})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 100)
    service = await runService(env)
    const s = service
    // Clear again and again while the first files go in and more arrive.
    const clears: ReturnType<typeof cli>[] = []
    for (let round = 0; round < 4; round++) {
      clears.push(cli(['cache', 'clear', '--json'], {LINEAGE_CACHE_FILE: env.LINEAGE_CACHE_FILE}))
      writeCorpus(raw, 25, 200 + round * 25)
      for (let i = 0; i < 5; i++) writeFile(raw, `copies/r${round}-${i}.sql`, sqlFor(i))
      await sleep(300)
    }
    for (const c of clears) {
      const exit = await c.exited
      expect(exit.code, `cache clear: ${c.stdout()} ${c.stderr()}`).to.equal(0)
    }
    await waitCaughtUp(env, {timeoutMs: 90_000})
    expect(s.stats.failed, 'files failed').to.equal(0)
    await s.stop()
    service = undefined
    const check = await cacheCheck(env)
    expect(check.code, check.stdout).to.equal(0)
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
