import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {type FaultProxy, startFaultProxy} from '../helpers/fault-proxy.js'
import {ledgerRows} from '../helpers/ledger.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cli, cliRun, type Cli, reap} from './support/cli.js'
import {writeCorpus} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: SIGTERM during a large ingest', function () {
  this.timeout(180_000)
  const neo = useNeo4j()
  let child: Cli | undefined
  let proxy: FaultProxy | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await reap(child)
      await proxy?.close()
    },
  })

  it('exits cleanly (0) after the batch in flight, a second signal at once (130); the next start finishes', async () => {
    proxy = await startFaultProxy(neo.uri)
    const env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri, BATCH_SIZE_THRESHOLD: '25'})
    const raw = env.LINEAGE_RAW_DIR!
    const total = 1500
    writeCorpus(raw, total)
    const done = (): number => ledgerRows(env.LINEAGE_STATE_DIR!).size

    for (const [round, signals, code] of [
      [1, 1, 0],
      [2, 2, 130],
    ] as const) {
      child = cli(['watch', raw, env.LINEAGE_OUT_DIR!], env, {cwd: tmp.dir})
      const c = child
      const before = done()
      await waitFor(
        `round ${round}: ingestion under way`,
        () => c.exit() !== undefined || done() >= before + 50,
        60_000,
      )
      // The second signal is for a stop that takes long: a slow Neo4j holds the batch in flight.
      if (signals === 2) await proxy.set('slow', 2000)
      const signalled = Date.now()
      c.kill('SIGTERM')
      if (signals === 2) {
        // (signals are not queued: the second must come after the first was handled)
        await waitFor(
          'the first signal handled',
          () => c.stderr().includes('SIGTERM received') || c.exit() !== undefined,
        )
        c.kill('SIGTERM')
      }
      const exit = await c.exited
      expect(exit.code, `round ${round}: ${c.stderr()}`).to.equal(code)
      expect(Date.now() - signalled, 'time to exit (ms)').to.be.below(15_000)
      expect(done(), `round ${round}: stopped mid-way`).to.be.below(total)
      if (round === 1) {
        expect(c.stderr()).to.match(/SIGTERM received: finishing the batch in flight/)
        expect(existsSync(join(env.LINEAGE_STATE_DIR!, 'service.json')), 'heartbeat removed').to.equal(false)
      }
      expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.lock'))).to.deep.equal([])
    }
    await proxy.set('pass')

    const last = await cliRun(['watch', raw, env.LINEAGE_OUT_DIR!, '--once', '--json'], env, {cwd: tmp.dir})
    expect(last.code, last.stderr).to.equal(0)
    const summary = JSON.parse(last.stdout) as {files: number; failed: number}
    expect(summary.failed).to.equal(0)
    expect(done()).to.equal(total)
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
