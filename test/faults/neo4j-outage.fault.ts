import {rmSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {readFailures} from '../../src/core/ingest/dead-letter.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {ledgerCounts} from '../helpers/ledger.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cliRun} from './support/cli.js'
import {relFor, sleep, sqlFileCount, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {type PrivateNeo4j, privateContext, requireNeo4jHarness, startPrivateNeo4j} from './support/neo4j-server.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: Neo4j stopped in the middle of an ingest, started again, then lineage retry-failed', function () {
  this.timeout(240_000)
  let server: PrivateNeo4j | undefined
  let neo: ReturnType<typeof privateContext> | undefined
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await service?.stop()
    },
  })
  before(async function () {
    requireNeo4jHarness(this)
    server = await startPrivateNeo4j()
    neo = privateContext(server)
  })
  after(async () => {
    await neo?.close()
    await server?.close()
  })

  it('loses nothing: the replay makes the graph equal to an outage-free ingestion', async () => {
    const db = neo!
    const env = serviceEnv(tmp.dir, {NEO4J_URI: server!.uri, BATCH_SIZE_THRESHOLD: '10'})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 60)
    service = await runService(env)
    const s = service
    await waitCaughtUp(env)
    expect(await sqlFileCount(db)).to.equal(60)

    // A real outage: the database process stops while files keep coming.
    await server!.stop()
    writeCorpus(raw, 30, 100) // new files
    for (const i of [0, 1, 2, 3, 4]) writeFile(raw, relFor(i), sqlFor(i, 2)) // edits
    for (const i of [10, 11, 12]) rmSync(join(raw, relFor(i))) // deletions
    const expected = 30 + 5 + 3
    await waitCaughtUp(env, {graph: ['written', 'failed']})
    expect(ledgerCounts(env.LINEAGE_STATE_DIR!)).to.deep.equal({written: 60 - 5 - 3, failed: 30 + 5})
    expect(readFailures(env.LINEAGE_FAILED_FILE!).entries).to.have.length(expected)
    expect(s.stats.graphFailures).to.equal(expected)

    // Back, on the same port and home. The service reconnects by itself, once its fail-fast window (which
    // fails writes at once for 5 s after a connectivity failure, into the failed-ingestion file) lets it.
    await server!.start()
    await sleep(5500)
    writeFile(raw, 'after/recovered.sql', sqlFor(500))
    await waitFor(
      'a new file written after the recovery',
      async () => (await db.query("MATCH (f:SqlFile {path: 'after/recovered.sql'}) RETURN f")).length === 1,
      60_000,
    )
    // Files whose failed upsert is in the file are written again meanwhile: deleted, and edited once more.
    rmSync(join(raw, relFor(0)))
    writeFile(raw, relFor(1), sqlFor(1, 3))
    // The recovery ended the outage: the service ingests again every file whose write failed.
    await waitCaughtUp(env)

    const retry = await cliRun(['retry-failed', '--json'], {
      NEO4J_URI: server!.uri,
      LINEAGE_FAILED_FILE: env.LINEAGE_FAILED_FILE,
      LINEAGE_STATE_DIR: env.LINEAGE_STATE_DIR,
    })
    expect(retry.code, retry.stderr).to.equal(0)
    const result = JSON.parse(retry.stdout) as {replayed: number; skipped: number; remaining: number; fileState: string}
    expect(result).to.deep.include({remaining: 0, fileState: 'removed'})
    expect(result.replayed + result.skipped).to.equal(expected)
    await service.stop()
    service = undefined
    await expectSameAsCleanIngestion(db, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
