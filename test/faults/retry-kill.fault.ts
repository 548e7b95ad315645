import {existsSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {readFailures} from '../../src/core/ingest/dead-letter.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {type FaultProxy, startFaultProxy} from '../helpers/fault-proxy.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cli, cliRun, type Cli, reap} from './support/cli.js'
import {relFor, sqlFor, waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: lineage retry-failed killed in the middle of a replay, then run again', function () {
  this.timeout(240_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  let proxy: FaultProxy | undefined
  let child: Cli | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await reap(child)
      await service?.stop()
      await proxy?.close()
    },
  })

  it('loses no line: what left the file is in the graph, the rest is replayed by the next run', async () => {
    proxy = await startFaultProxy(neo.uri)
    const env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri})
    const raw = env.LINEAGE_RAW_DIR!
    const failedFile = env.LINEAGE_FAILED_FILE!
    writeCorpus(raw, 20)
    service = await runService(env)
    await waitCaughtUp(env)

    // An outage: everything that changes meanwhile goes to the failed-ingestion file.
    await proxy.set('refuse')
    writeCorpus(raw, 200, 100)
    for (const i of [0, 1, 2]) writeFile(raw, relFor(i), sqlFor(i, 2))
    for (const i of [3, 4]) rmSync(join(raw, relFor(i)))
    await waitCaughtUp(env, {graph: ['written', 'failed'], timeoutMs: 90_000})
    const original = readFailures(failedFile).entries
    expect(original).to.have.length(205)
    // The service keeps seeing the outage until the replays are done: it catches up by itself the moment Neo4j
    // answers its probe (re-ingesting every failed file), and the replays to be killed must have work left.
    // They reach Neo4j directly, not through the proxy.

    const retryEnv = {NEO4J_URI: neo.uri, LINEAGE_FAILED_FILE: failedFile, LINEAGE_STATE_DIR: env.LINEAGE_STATE_DIR}
    const startSize = statSync(failedFile).size
    // Killed twice, each time once it has committed and rewritten a few chunks (baseline: slow enough).
    for (const round of [1, 2]) {
      const before = statSync(failedFile).size
      child = cli(['retry-failed', '--batch-size', '5'], {...retryEnv, FEATURE_NEO4J_BATCH: 'false'}, {cwd: tmp.dir})
      const c = child
      await waitFor(
        `round ${round}: the replay under way`,
        () =>
          c.exit() !== undefined || !existsSync(failedFile) || statSync(failedFile).size < before - startSize * 0.05,
        120_000,
      )
      expect(c.exit(), `round ${round}: retry-failed ended before it could be killed: ${c.stderr()}`).to.equal(
        undefined,
      )
      c.kill('SIGKILL')
      expect((await c.exited).signal).to.equal('SIGKILL')

      const left = readFailures(failedFile)
      expect(left.invalid, 'a line cut in half').to.deep.equal([])
      expect(left.entries.length, 'killed mid-way').to.be.within(1, original.length - 1)
      // Every line is still in the file, or what it wrote is in the graph (the newest write of its path).
      const inFile = new Set(left.entries.map((e) => e.id))
      const graph = await neo.query('MATCH (f:SqlFile) RETURN f.path AS p, f.contentHash AS h')
      const inGraph = new Map(graph.map((g) => [String(g.p), String(g.h)]))
      const lost = original.filter(
        (e) => !inFile.has(e.id) && (e.op === 'upsert' ? inGraph.get(e.path) !== e.contentHash : inGraph.has(e.path)),
      )
      expect(lost.map((e) => `${e.op} ${e.path}`)).to.deep.equal([])
    }

    const last = await cliRun(['retry-failed', '--json'], retryEnv, {cwd: tmp.dir})
    expect(last.code, last.stderr).to.equal(0)
    expect(JSON.parse(last.stdout)).to.deep.include({remaining: 0, fileState: 'removed', invalid: 0})
    const replayed = await neo.graphSnapshot()

    // Neo4j back for the service too: its own catch-up writes the same files again over the replay's writes
    // and must leave the same graph (no duplicates, nothing lost).
    await proxy.set('pass')
    await waitCaughtUp(env, {timeoutMs: 90_000})
    await service.stop()
    expect(await neo.graphSnapshot()).to.deep.equal(replayed)
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
