import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chmodSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {ParseTally, runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cliRun} from './support/cli.js'
import {waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

const asRoot = process.getuid?.() === 0

/** The bad files, by name; the reason each fails with, or null for one that is simply empty. */
function writeBadFiles(raw: string): Record<string, RegExp | null> {
  writeFile(raw, 'bad/empty.sql', '')
  writeFile(raw, 'bad/binary.sql', Buffer.concat([Buffer.from('SELECT 1;\n\0'), randomBytes(8192)]))
  writeFile(raw, 'bad/latin1.sql', Buffer.from("INSERT INTO t.cafe SELECT 'caf\u00e9' AS c FROM s.x;\n", 'latin1'))
  // 50 MB of real SQL, over the 16 MB default limit: refused without being read.
  const line = 'INSERT INTO big.t (a) SELECT a FROM big.s;\n'
  writeFile(raw, 'bad/huge.sql', line.repeat(Math.ceil((50 * 1024 * 1024) / line.length)))
  return {
    'bad/empty.sql': null,
    'bad/binary.sql': /binary content/,
    'bad/latin1.sql': /not valid UTF-8/,
    'bad/huge.sql': /over the limit/,
  }
}

describe('fault: files that are empty, binary, not UTF-8, 50 MB, unreadable, not files, or gone before read', function () {
  this.timeout(180_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: async () => service?.stop()})

  it(`watch --once${asRoot ? ' (as root, minus the capability to read any file)' : ''}: each fails with its reason, logged once; the rest go in`, async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 20)
    const reasons = writeBadFiles(raw)
    writeFile(raw, 'bad/locked.sql', 'INSERT INTO locked.t SELECT a FROM locked.s;\n')
    chmodSync(join(raw, 'bad/locked.sql'), 0o000)
    const run = () =>
      cliRun(['watch', raw, env.LINEAGE_OUT_DIR!, '--once', '--json'], env, {cwd: tmp.dir, withoutReadOverride: asRoot})

    const first = await run()
    expect(first.code, first.stderr).to.equal(1) // --once: some files failed
    expect(JSON.parse(first.stdout)).to.deep.include({files: 25, failed: 4, graphFailures: 0})
    const log = readFileSync(env.LINEAGE_LOG_FILE!, 'utf8')
    const expected: Record<string, RegExp | null> = {...reasons, 'bad/locked.sql': /permission denied/}
    for (const [path, reason] of Object.entries(expected)) {
      const lines = log.split('\n').filter((l) => l.includes(`"path":"${path}"`) && l.includes('"level":"error"'))
      if (reason === null) {
        expect(lines, path).to.deep.equal([])
        continue
      }
      expect(lines, `${path} is logged once`).to.have.length(1)
      expect(lines[0], path).to.match(reason)
    }
    const outputs = readdirSync(join(env.LINEAGE_OUT_DIR!, 'bad')).sort()
    expect(outputs, 'outputs: every bad file but the unreadable one').to.deep.equal(
      ['binary', 'empty', 'huge', 'latin1'].map((n) => `${n}.sql.lineage.json`),
    )

    // Readable again: the next start ingests it, and only it.
    chmodSync(join(raw, 'bad/locked.sql'), 0o644)
    const second = await run()
    expect(second.code, second.stderr).to.equal(0)
    expect(JSON.parse(second.stdout)).to.deep.include({files: 1, failed: 0})
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })

  it('a running service: bad files, a FIFO, and files deleted between their event and their read', async () => {
    const env = serviceEnv(tmp.dir, {
      NEO4J_URI: neo.uri,
      INGEST_WORKERS: '1',
      BATCH_SIZE_THRESHOLD: '100',
      // Long enough that the bad files, the slow file and the 30 behind it are one batch, however slow the
      // 50 MB write and the watcher's settling are: the deletions below must hit files still queued.
      DEBOUNCE_WINDOW_SECONDS: '4',
    })
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 10)
    const parses = new ParseTally()
    service = await runService(env, {observer: parses.observer})
    const s = service
    await waitCaughtUp(env)

    writeBadFiles(raw)
    execFileSync('mkfifo', [join(raw, 'bad/pipe.sql')])
    // One batch: a file that takes the only worker a second or two (and is small in the graph), then 30 files
    // queued behind it.
    const conditions = Array.from({length: 80_000}, (_, i) => `c${i} = ${i}`).join(' AND ')
    writeFile(raw, 'slow/first.sql', `INSERT INTO s.t SELECT a FROM s.u WHERE ${conditions};`)
    const queued = writeCorpus(raw, 30, 100)
    const handed = parses.worker + 31 + 4
    await waitFor('the batch handed to the pool', () => parses.worker >= handed, 30_000)
    for (const rel of queued.slice(10, 20)) rmSync(join(raw, rel))
    const filesBefore = s.stats.files
    // (not in the ledger by content: the pipe, never read, and the 50 MB file, refused unread)
    await waitCaughtUp(env, {except: (rel) => rel === 'bad/pipe.sql' || rel === 'bad/huge.sql'})
    const vanished = 31 + 4 - (s.stats.files - filesBefore)
    expect(vanished, 'files that vanished between their event and their read').to.be.within(1, 10)
    expect(statSync(join(raw, 'bad/pipe.sql')).isFIFO()).to.equal(true)
    await s.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
