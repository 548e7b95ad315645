import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {readFailures} from '../../src/core/ingest/dead-letter.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {type FaultProxy, startFaultProxy} from '../helpers/fault-proxy.js'
import {ledgerCounts} from '../helpers/ledger.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {healthOf as health, runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cliRun} from './support/cli.js'
import {relFor, sleep, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'
import {mountTmpfs, requireRoot, type Tmpfs} from './support/tmpfs.js'

describe('fault: the failed-ingestion file runs out of disk during a Neo4j outage (a torn line)', function () {
  this.timeout(240_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  let proxy: FaultProxy | undefined
  let disk: Tmpfs | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await service?.stop()
      await proxy?.close()
      disk?.unmount()
    },
  })
  before(function () {
    requireRoot(this)
  })

  it('cuts the torn line off, re-ingests every failed file once Neo4j is back, and resurrects nothing', async () => {
    disk = mountTmpfs(join(tmp.dir, 'failed'), 1024 * 1024)
    const failedFile = join(disk.dir, 'failed_ingestion.jsonl')
    proxy = await startFaultProxy(neo.uri)
    const env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri, BATCH_SIZE_THRESHOLD: '5', LINEAGE_FAILED_FILE: failedFile})
    const raw = env.LINEAGE_RAW_DIR!
    const state = env.LINEAGE_STATE_DIR!
    writeCorpus(raw, 30)
    service = await runService(env)
    await waitCaughtUp(env)

    // Neo4j refuses connections; the failed-ingestion file's disk has room for a few entries only.
    await proxy.set('refuse')
    disk.fill(32 * 1024)
    for (const i of [0, 1, 2]) rmSync(join(raw, relFor(i))) // retractions: recorded while there is room
    await sleep(1500)
    for (const i of [3, 4, 5]) writeFile(raw, relFor(i), sqlFor(i, 2)) // edits
    writeCorpus(raw, 30, 100) // new files, most of which no longer fit
    await waitFor('every new or edited file failed', () => ledgerCounts(state).failed === 33, 90_000)
    const problems = (await health(service)).problems.join('\n')
    expect(problems, 'degraded, naming the file and the reason').to.include(
      `failed-ingestion file ${failedFile} cannot be written`,
    )
    expect(problems).to.include('ENOSPC')
    const content = readFileSync(failedFile)
    // Usually ENOSPC cut an append mid-line; when it fell on a line end, cut the last line as it would have.
    if (content.at(-1) === 0x0a) {
      const text = content.toString('utf8')
      const start = text.lastIndexOf('\n', text.length - 2) + 1
      writeFile(disk.dir, 'failed_ingestion.jsonl', text.slice(0, start + 100))
    }
    expect(readFileSync(failedFile).at(-1), 'the file ends in a torn line').to.not.equal(0x0a)
    const before = readFailures(failedFile)
    if (process.env.FAULT_DEBUG)
      process.stderr.write(`tail: ${JSON.stringify(readFileSync(failedFile).subarray(-300).toString())}\n`)
    expect(before.invalid.map((i) => i.reason)).to.deep.equal(['incomplete last line'])
    expect(before.entries.length, 'entries that fit').to.be.greaterThan(0).and.lessThan(36)

    // Space comes back while Neo4j is still away: the next append starts on a line of its own.
    disk.free()
    writeFile(raw, relFor(6), sqlFor(6, 2))
    rmSync(join(raw, relFor(100)))
    await waitFor('the next failure recorded', () => readFailures(failedFile).entries.length > before.entries.length)
    const after = readFailures(failedFile)
    expect(after.invalid, 'no entry glued onto the fragment').to.deep.equal([])
    expect(readFileSync(`${failedFile}.quarantine`, 'utf8').trim().split('\n')).to.have.length(1)

    // Neo4j is back: with no file event, the service's probe finds it, and the service writes every file whose
    // write failed, recorded or not, by itself; /healthz says ok again.
    await proxy.set('pass')
    await waitCaughtUp(env, {timeoutMs: 90_000})
    await waitFor('/healthz ok', async () => (await health(service!)).status === 'ok', 10_000)

    const retry = await cliRun(['retry-failed', '--json'], {
      NEO4J_URI: neo.uri,
      LINEAGE_FAILED_FILE: failedFile,
      LINEAGE_STATE_DIR: state,
    })
    expect(retry.code, retry.stderr).to.equal(0)
    expect(JSON.parse(retry.stdout)).to.deep.include({remaining: 0, fileState: 'removed', invalid: 0})
    await service.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
