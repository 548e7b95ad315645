import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, utimesSync, writeFileSync, existsSync} from 'node:fs'
import {hostname} from 'node:os'
import {join, resolve} from 'node:path'

import {expect} from 'chai'

import {countFailures, isLineageError} from '../../../src/core/index.js'
import {prepareOp} from '../../../src/core/graph/model.js'
import {type GraphFailure} from '../../../src/core/graph/writer.js'
import {
  appendFailures,
  failedFileSink,
  parseLines,
  preparedFromEntry,
  readFailures,
  replaceFile,
  withFileLock,
} from '../../../src/core/ingest/dead-letter.js'
import {LOCK_STALE_MS} from '../../../src/core/util/lock.js'
import {stmt, upsert} from '../../helpers/neo4j.js'
import {useTmpDir} from '../../helpers/tmp.js'

const clock = (): Date => new Date('2026-03-04T05:06:07.000Z')
const failure = (path: string): GraphFailure => ({
  op: upsert(path, [stmt(0, {sources: ['a'], targets: ['b'], columns: [{target: 'b.x', sources: ['a.x']}]})]),
  namespace: 'ns',
  code: 'E_NEO4J_UNAVAILABLE',
  error: 'Neo4j went away',
})

describe('dead-letter', () => {
  const tmp = useTmpDir()
  let file: string
  beforeEach(() => {
    file = join(tmp.dir, 'data', 'failed_ingestion.jsonl')
  })

  it("keeps no verify canary's failed writes: they would only inflate the backlog verify reports", async () => {
    const sink = failedFileSink(file)
    const canaryRetract: GraphFailure = {
      op: {op: 'retract', path: 'lineage-verify-canary-abc.sql', at: 'T9'},
      namespace: 'ns',
      code: 'E_NEO4J_UNAVAILABLE',
      error: 'x',
    }
    await sink.append([failure('lineage-verify-canary-abc.sql'), canaryRetract])
    expect(existsSync(file)).to.equal(false)
    // Only the canary at the top of the folder is the canary: a user's file of that name in a folder is kept.
    await sink.append([failure('lineage-verify-canary-abc.sql'), failure('etl/lineage-verify-canary-x.sql')])
    expect(readFailures(file).entries.map((e) => e.path)).to.deep.equal(['etl/lineage-verify-canary-x.sql'])
  })

  it('appends one line per failure with the exact rows, and reads them back', async () => {
    const retract: GraphFailure = {
      op: {op: 'retract', path: 'gone.sql', at: 'T9'},
      namespace: 'ns',
      code: 'E_NEO4J_WRITE',
      error: 'x',
    }
    const written = await appendFailures(file, [failure('a.sql'), retract], clock)
    await appendFailures(file, [failure('b.sql')], clock)
    const text = readFileSync(file, 'utf8')
    expect(text.endsWith('\n')).to.equal(true)
    expect(text.split('\n')).to.have.length(4)
    const {entries, invalid} = readFailures(file)
    expect(invalid).to.deep.equal([])
    expect(entries.slice(0, 2)).to.deep.equal(written)
    expect(entries[2]?.path).to.equal('b.sql')
    const [a, r] = written
    expect(a).to.deep.include({
      v: 1,
      op: 'upsert',
      path: 'a.sql',
      namespace: 'ns',
      contentHash: 'hash-of-a.sql',
      dialect: 'ansi',
      opTime: '2026-01-01T00:00:00.000Z',
      code: 'E_NEO4J_UNAVAILABLE',
      error: 'Neo4j went away',
      time: '2026-03-04T05:06:07.000Z',
      attempts: 1,
    })
    expect(r).to.deep.include({op: 'retract', path: 'gone.sql', opTime: 'T9', rows: {path: 'gone.sql', at: 'T9'}})
    // The replay needs nothing else: the entry gives back exactly the op the writer was given, in its namespace
    // (not the replay's current one).
    expect(preparedFromEntry(entries[0]!, 'other')).to.deep.equal(prepareOp(failure('a.sql').op, 'ns'))
    expect(preparedFromEntry(entries[1]!, 'other')).to.deep.equal(prepareOp(retract.op, 'ns'))
    // An entry from before namespaces has none: it replays into the current namespace.
    const old = {...entries[0]!}
    delete old.namespace
    expect(preparedFromEntry(old, 'current')).to.deep.equal(prepareOp(failure('a.sql').op, 'current'))
    expect(new Set(entries.map((e) => e.id)).size).to.equal(3)
    expect(countFailures(file)).to.equal(3)
  })

  it('writes nothing for no failures; a missing file has no lines', async () => {
    expect(await appendFailures(file, [])).to.deep.equal([])
    expect(existsSync(file)).to.equal(false)
    expect(countFailures(file)).to.equal(0)
    expect(readFailures(file)).to.deep.include({entries: [], invalid: []})
  })

  it('keeps lines that are not valid entries, raw, with their line numbers and reasons', async () => {
    await appendFailures(file, [failure('a.sql')], clock)
    const good = readFileSync(file, 'utf8')
    const wrongVersion = JSON.stringify({...JSON.parse(good.trim()), v: 2})
    const noRows = JSON.stringify({...JSON.parse(good.trim()), rows: {file: {}}})
    const bytes = Buffer.concat([
      Buffer.from(`${good}{not json\n\n${wrongVersion}\n`),
      Buffer.from([0xff, 0xfe, 0x0a]),
      Buffer.from(`${noRows}\n{"v":1,"half":`),
    ])
    writeFileSync(file, bytes)
    const {entries, invalid, content} = readFailures(file)
    expect(content.equals(bytes)).to.equal(true)
    expect(entries.map((e) => e.path)).to.deep.equal(['a.sql'])
    const lines = parseLines(content)
    expect(lines.entries.map((e) => e.line)).to.deep.equal([1])
    expect(lines.invalid.map((i) => [i.line, i.reason])).to.deep.equal(invalid.map((i) => [i.line, i.reason]))
    expect(invalid.map((i) => [i.line, i.reason.split(':')[0]])).to.deep.equal([
      [2, 'not JSON'],
      [4, 'unknown version 2'],
      [5, 'not JSON'],
      [6, 'upsert rows invalid'],
      [7, 'incomplete last line'],
    ])
    expect(invalid[3]!.raw).to.equal(noRows)
    expect(lines.invalid[2]!.raw.equals(Buffer.from([0xff, 0xfe]))).to.equal(true)
    expect(countFailures(file)).to.equal(6)
  })

  describe('the lock', () => {
    it('breaks a lock whose owner process is dead', async () => {
      const dead = spawnSync(process.execPath, ['-e', '0']).pid
      mkdirSync(`${file}.lock`, {recursive: true})
      writeFileSync(`${file}.lock.owner`, JSON.stringify({pid: dead, host: hostname(), token: 'old'}))
      const started = Date.now()
      await appendFailures(file, [failure('a.sql')], clock)
      expect(Date.now() - started).to.be.below(1000)
      expect(countFailures(file)).to.equal(1)
      expect(existsSync(`${file}.lock`)).to.equal(false)
    })

    it('breaks a lock left without an owner by a process killed right after taking it', async () => {
      mkdirSync(`${file}.lock`, {recursive: true})
      // Not refreshed for longer than the stale limit: its holder stopped refreshing it (util/lock.ts).
      const old = new Date(Date.now() - LOCK_STALE_MS - 1000)
      utimesSync(`${file}.lock`, old, old)
      await appendFailures(file, [failure('a.sql')], clock)
      expect(countFailures(file)).to.equal(1)
    })

    it('waits for a live holder and gives up with E_LOCKED naming it', async () => {
      mkdirSync(`${file}.lock`, {recursive: true})
      writeFileSync(`${file}.lock.owner`, JSON.stringify({pid: process.pid, host: hostname(), token: 'other'}))
      const started = Date.now()
      let error: unknown
      try {
        await withFileLock(file, () => 1, 300)
      } catch (e) {
        error = e
      }
      expect(Date.now() - started).to.be.at.least(300)
      expect(isLineageError(error) && error.code).to.equal('E_LOCKED')
      expect((error as Error).message).to.include(`pid ${process.pid}`)
      // Not ours: it is left alone.
      expect(existsSync(`${file}.lock.owner`)).to.equal(true)
    })
  })

  it('never loses a line appended by other processes while the file is rewritten', async function () {
    this.timeout(60_000)
    // Lines the "replay" will drop; the children append 3 x 150 lines meanwhile.
    await appendFailures(file, ['drop-1', 'drop-2', 'drop-3'].map(failure), clock)
    const module = resolve('src/core/ingest/dead-letter.ts')
    const child = (n: number): Promise<number | null> =>
      new Promise((done) => {
        const code = `
          const {appendFailures} = await import(${JSON.stringify(module)})
          for (let i = 0; i < 150; i++) {
            await appendFailures(${JSON.stringify(file)}, [{op: {op: 'retract', path: 'child-${n}-' + i, at: 'T'}, code: 'E', error: 'e'}])
          }`
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {stdio: 'inherit'})
        p.on('exit', done)
      })
    const children = [child(1), child(2), child(3)]
    const state = {running: true}
    void Promise.all(children).then(() => (state.running = false))
    let rewrites = 0
    while (state.running || rewrites < 5) {
      // What retry-failed does after each chunk: re-read under the lock, keep what must stay, replace atomically.
      await withFileLock(file, () => {
        const {entries, invalid} = parseLines(readFailures(file).content)
        expect(invalid).to.deep.equal([])
        const kept = entries.filter((e) => !e.entry.path.startsWith('drop-')).map((e) => `${e.raw.toString()}\n`)
        replaceFile(file, Buffer.from(kept.join('')))
      })
      rewrites++
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(await Promise.all(children)).to.deep.equal([0, 0, 0])
    const paths = readFailures(file).entries.map((e) => e.path)
    expect(paths.filter((p) => p.startsWith('drop-'))).to.deep.equal([])
    expect(paths).to.have.length(450)
    expect(new Set(paths).size).to.equal(450)
  })
})
