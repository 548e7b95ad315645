import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {openDatabase} from '../../src/core/util/sqlite.js'
import {readFailures} from '../../src/core/ingest/dead-letter.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cli, type Cli, reap} from './support/cli.js'
import {relFor, sqlFileCount, sqlFor, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

interface Heartbeat {
  pid: number
  queueSize: number
}

/** Files whose lineage output was written but which the ledger does not have: the batch that was in flight. */
function inFlight(env: NodeJS.ProcessEnv): string[] {
  const file = join(env.LINEAGE_STATE_DIR!, 'ledger.sqlite')
  if (!existsSync(file)) return []
  const db = openDatabase(file, {readonly: true, timeout: 5000})
  try {
    if (db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'files'").pluck().get() === 0) return []
    const known = new Set(db.prepare('SELECT path FROM files').pluck().all() as string[])
    const out = env.LINEAGE_OUT_DIR!
    return readdirSync(out, {recursive: true, encoding: 'utf8'})
      .filter((rel) => rel.endsWith('.lineage.json'))
      .map((rel) => rel.slice(0, -'.lineage.json'.length))
      .filter((rel) => !known.has(rel))
  } finally {
    db.close()
  }
}

describe('fault: kill -9 of lineage watch in the middle of a batch, then a restart', function () {
  this.timeout(180_000)
  const neo = useNeo4j()
  let child: Cli | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: async () => reap(child)})

  it('every file is in the graph exactly once and the output folder is whole', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '25'})
    const raw = env.LINEAGE_RAW_DIR!
    const total = 1200
    writeCorpus(raw, total)
    const watch = (): Cli => cli(['watch', raw, env.LINEAGE_OUT_DIR!], env, {cwd: tmp.dir})

    // Two kills, each once a batch or more has landed and while more is in flight.
    for (const round of [1, 2]) {
      child = watch()
      const before = await sqlFileCount(neo)
      await waitFor(
        `round ${round}: a batch in the graph`,
        async () => child?.exit() !== undefined || (await sqlFileCount(neo)) > before,
        60_000,
      )
      // Kill while the next batch is parsed: its outputs are written, its graph write and ledger rows are not.
      await waitFor(`round ${round}: a batch in flight`, () => child?.exit() !== undefined || inFlight(env).length > 0)
      child.kill('SIGKILL')
      const exit = await child.exited
      expect(exit.signal, `round ${round}: ${child.stderr()}`).to.equal('SIGKILL')
      const landed = await sqlFileCount(neo)
      expect(landed, `round ${round}: killed mid-way`).to.be.within(1, total - 1)
      if (round === 1) {
        // While it is down: edits, deletions (of files written, in flight and not yet read) and new files.
        const flying = inFlight(env).slice(0, 2)
        expect(flying, 'files in flight when killed').to.have.length(2)
        for (const i of [0, 1, 2, 1190, 1191]) writeFile(raw, relFor(i), sqlFor(i, 2))
        for (const rel of [relFor(3), relFor(4), ...flying, relFor(1196)]) rmSync(join(raw, rel))
        writeCorpus(raw, 5, 5000)
      }
    }

    // The third start finishes the work; then a clean stop.
    child = watch()
    const onDisk = total - 5 + 5
    const heartbeat = join(env.LINEAGE_STATE_DIR!, 'service.json')
    await waitFor(
      'every file ingested by the restarted service',
      async () => {
        if (child?.exit() !== undefined) throw new Error(`watch ended: ${child.stderr()}`)
        if (!existsSync(heartbeat)) return false
        const hb = JSON.parse(readFileSync(heartbeat, 'utf8')) as Heartbeat
        if (process.env.FAULT_DEBUG)
          process.stderr.write(
            `hb pid ${hb.pid}/${child?.pid} queue ${hb.queueSize} graph ${await sqlFileCount(neo)}/${onDisk}\n`,
          )
        return hb.pid === child?.pid && hb.queueSize === 0 && (await sqlFileCount(neo)) === onDisk
      },
      90_000,
    )
    child.kill('SIGTERM')
    expect((await child.exited).code, child.stderr()).to.equal(0)
    expect(readFailures(env.LINEAGE_FAILED_FILE!).entries).to.deep.equal([])
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
