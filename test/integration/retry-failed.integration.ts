import {spawn} from 'node:child_process'
import {copyFileSync, existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {retryFailed, type RetryFailedResult, type ReplayWriter, silentLogger} from '../../src/core/index.js'
import {type GraphOp} from '../../src/core/graph/model.js'
import {type GraphFailure} from '../../src/core/graph/writer.js'
import {appendFailures, readFailures} from '../../src/core/ingest/dead-letter.js'
import {GraphWriter} from '../../src/core/graph/writer.js'
import {type Neo4jContext, type Snapshot, startProxy, stmt, TEST_NAMESPACE, upsert, useNeo4j} from '../helpers/neo4j.js'
import {withEnv, useTmpDir} from '../helpers/tmp.js'

const T = (n: number): string => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`

/** A file of n statements, each copying one table into another, tagged so versions differ. */
function bigFile(path: string, n: number, tag: string, time = T(1)): GraphOp {
  const statements = Array.from({length: n}, (_, i) =>
    stmt(i, {
      sources: [`src_${tag}_${i}`],
      targets: [`tgt_${tag}_${i}`],
      columns: [{target: `tgt_${tag}_${i}.c`, sources: [`src_${tag}_${i}.c`]}],
    }),
  )
  return upsert(path, statements, `hash-${tag}`, time)
}

const small = (path: string, tag: string, time = T(1)): GraphOp => bigFile(path, 2, tag, time)

const failed = (ops: GraphOp[]): GraphFailure[] =>
  ops.map((op) => ({op, namespace: TEST_NAMESPACE, code: 'E_NEO4J_UNAVAILABLE', error: 'down'}))

describe('retry-failed (real Neo4j)', function () {
  this.timeout(120_000)
  const ctx = useNeo4j()
  const tmp = useTmpDir()
  let file: string
  beforeEach(() => {
    file = join(tmp.dir, 'failed_ingestion.jsonl')
  })

  const open = (uri = ctx.uri): Promise<GraphWriter> =>
    GraphWriter.connect(
      {...ctx.conn, uri},
      {
        logger: silentLogger,
        namespace: TEST_NAMESPACE,
        acquisitionTimeoutMs: 1000,
        breakerMs: 500,
      },
    )
  const replay = (options: Partial<Parameters<typeof retryFailed>[0]> = {}): Promise<RetryFailedResult> =>
    retryFailed({
      file,
      namespace: TEST_NAMESPACE,
      openWriter: () => open(),
      batched: true,
      batchSize: 2,
      dryRun: false,
      logger: silentLogger,
      rewriteIntervalMs: 0,
      ...options,
    })
  async function write(ops: GraphOp[], batched = true): Promise<void> {
    const w = await open()
    try {
      expect((await w.apply(ops, {batched})).failed).to.deep.equal([])
    } finally {
      await w.close()
    }
  }
  async function cleanIngestion(c: Neo4jContext, ops: GraphOp[]): Promise<Snapshot> {
    await c.cleanGraph()
    await write(ops)
    const snap = await c.graphSnapshot()
    await c.cleanGraph()
    return snap
  }

  for (const batched of [true, false]) {
    it(`${batched ? 'batched' : 'single'}: after an outage, the replay makes the graph equal to an outage-free run`, async () => {
      const before = [small('a.sql', 'a1'), small('b.sql', 'b1'), small('c.sql', 'c1')]
      const during: GraphOp[] = [
        small('b.sql', 'b2', T(2)),
        {op: 'retract', path: 'c.sql', at: T(2)},
        small('d.sql', 'd1', T(2)),
      ]
      const expected = await cleanIngestion(ctx, [before[0]!, during[0]!, during[2]!])
      await write(before)
      const proxy = await startProxy(ctx.uri)
      try {
        const w = await open(proxy.uri)
        await proxy.down()
        const r = await w.apply(during, {batched})
        await w.close()
        expect(r.failed).to.have.length(3)
        await appendFailures(file, r.failed)
      } finally {
        await proxy.close()
      }
      const result = await replay({batched})
      expect(result).to.deep.include({replayed: 3, skipped: 0, stillFailing: 0, remaining: 0, fileState: 'removed'})
      expect(existsSync(file)).to.equal(false)
      expect(await ctx.graphSnapshot()).to.deep.equal(expected)
    })
  }

  /** Write op in baseline mode through a proxy that drops in the middle; the failure goes to the file. */
  async function halfWrite(op: GraphOp): Promise<void> {
    const proxy = await startProxy(ctx.uri)
    try {
      const w = await open(proxy.uri)
      const writing = w.apply([op], {batched: false})
      // Cut the connection once the first of its tables is in.
      for (const until = Date.now() + 20_000; Date.now() < until;) {
        const seen = await ctx.query("MATCH (t:Table) WHERE t.name CONTAINS '_v2_' RETURN count(t) AS n")
        if (Number(seen[0]?.n) > 0) break
        await new Promise((r) => setTimeout(r, 5))
      }
      await proxy.down()
      const r = await writing
      await w.close()
      expect(r.failed).to.have.length(1)
      await appendFailures(file, r.failed)
    } finally {
      await proxy.close()
    }
    // Really half-written: the file is not sealed with its hash, yet some of its nodes are there.
    const sealed = await ctx.query('MATCH (f:SqlFile {path: $p}) RETURN f.contentHash AS h', {p: op.path})
    expect(sealed.every((r) => r.h === null)).to.equal(true)
    const some = await ctx.query("MATCH (t:Table) WHERE t.name CONTAINS '_v2_' RETURN count(t) AS n")
    expect(some[0]?.n).to.be.above(0)
  }

  it('a half-written baseline write is completed by the replay', async () => {
    const v2 = bigFile('x.sql', 60, 'v2', T(2))
    const other = small('other.sql', 'o')
    await write([bigFile('x.sql', 60, 'v1', T(1)), other])
    await halfWrite(v2)
    expect(await replay()).to.deep.include({replayed: 1, remaining: 0})
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, [v2, other]))
  })

  it('the nodes a half-written write left are cleaned up when a newer write superseded it', async () => {
    const v3 = bigFile('x.sql', 3, 'v3', T(3))
    const other = small('other.sql', 'o')
    await write([bigFile('x.sql', 60, 'v1', T(1)), other])
    await halfWrite(bigFile('x.sql', 60, 'v2', T(2)))
    await write([v3])
    const result = await replay()
    expect(result).to.deep.include({replayed: 0, skipped: 1, remaining: 0})
    expect(result.skippedBy.superseded).to.equal(1)
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, [v3, other]))
  })

  it('replaying twice adds nothing', async () => {
    const ops = [small('a.sql', 'a'), small('b.sql', 'b'), {op: 'retract', path: 'zz.sql', at: T(5)} as GraphOp]
    await appendFailures(file, failed(ops))
    copyFileSync(file, `${file}.copy`)
    expect(await replay()).to.deep.include({replayed: 2, remaining: 0})
    expect(await replay()).to.deep.include({fileState: 'absent'})
    const once = await ctx.graphSnapshot()
    copyFileSync(`${file}.copy`, file)
    const second = await replay({batched: false})
    expect(second).to.deep.include({replayed: 0, skipped: 3, remaining: 0})
    expect(second.skippedBy).to.deep.equal({sameContent: 2, superseded: 0, gone: 1})
    expect(await ctx.graphSnapshot()).to.deep.equal(once)
  })

  it('skips what is already in the graph, superseded, or gone; replays the rest in order', async () => {
    await write([small('same.sql', 'same', T(1)), small('newer.sql', 'newer', T(9)), small('alive.sql', 'al', T(9))])
    await write([small('delete-me.sql', 'del', T(1))])
    const ops: GraphOp[] = [
      small('same.sql', 'same', T(1)), // same content: skipped
      small('newer.sql', 'older', T(2)), // the graph holds a newer write: skipped
      small('twice.sql', 'first', T(3)), // a later line of the file supersedes it: skipped
      {op: 'retract', path: 'never-written.sql', at: T(3)}, // gone: skipped
      {op: 'retract', path: 'alive.sql', at: T(4)}, // the file was written again after: skipped
      {op: 'retract', path: 'delete-me.sql', at: T(4)}, // replayed
      small('twice.sql', 'second', T(5)), // replayed
    ]
    await appendFailures(file, failed(ops))
    const dry = await replay({dryRun: true})
    expect(dry).to.deep.include({replayed: 2, skipped: 5, remaining: 7, fileState: 'unchanged'})
    expect(readFailures(file).entries).to.have.length(7)
    const result = await replay({batchSize: 3})
    expect(result.skippedBy).to.deep.equal({sameContent: 1, superseded: 3, gone: 1})
    expect(result).to.deep.include({replayed: 2, stillFailing: 0, remaining: 0})
    const files = await ctx.query('MATCH (f:SqlFile) RETURN f.path + " " + f.contentHash AS f ORDER BY f')
    expect(files.map((f) => f.f)).to.deep.equal([
      'alive.sql hash-al',
      'newer.sql hash-newer',
      'same.sql hash-same',
      'twice.sql hash-second',
    ])
  })

  it('moves invalid lines to the quarantine file, counted, and reports them', async () => {
    await appendFailures(file, failed([small('a.sql', 'a')]))
    writeFileSync(file, `{broken\n${readFileSync(file, 'utf8')}{"v":1}\n`)
    const result = await replay()
    expect(result).to.deep.include({replayed: 1, invalid: 2, quarantined: 2, remaining: 0, fileState: 'removed'})
    expect(result.invalidLines.map((l) => l.line)).to.deep.equal([1, 3])
    expect(existsSync(file)).to.equal(false)
    const moved = readFileSync(`${file}.quarantine`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as {raw: string; reason: string})
    expect(moved.map((m) => m.raw)).to.deep.equal(['{broken', '{"v":1}'])
    expect(moved[0]?.reason).to.match(/^not JSON/)
    // Nothing is kept to fail forever: the next replay has nothing to do.
    expect(await replay()).to.deep.include({invalid: 0, quarantined: 0, fileState: 'absent'})
  })

  it('keeps the lines a running service appends during the replay', async () => {
    await appendFailures(file, failed(['a', 'b', 'c', 'd'].map((p) => small(`${p}.sql`, p))))
    let n = 0
    const result = await replay({
      batchSize: 1,
      openWriter: async () => {
        const real = await open()
        const service: ReplayWriter = {
          applyPrepared: async (items, o) => {
            await appendFailures(file, failed([small(`late-${n++}.sql`, 'late')]))
            return real.applyPrepared(items, o)
          },
          fileStates: (p) => real.fileStates(p),
          removeOrphans: (t, c) => real.removeOrphans(t, c),
          close: () => real.close(),
        }
        return service
      },
    })
    expect(result).to.deep.include({replayed: 4, appended: 4, remaining: 4, fileState: 'rewritten'})
    expect(readFailures(file).entries.map((e) => e.path)).to.deep.equal([
      'late-0.sql',
      'late-1.sql',
      'late-2.sql',
      'late-3.sql',
    ])
  })

  it('skips, as superseded, a path a service wrote anew between the skip decision and the write', async () => {
    // classify reads the graph, then a running service writes b.sql (newer content, newer time) before the
    // replay's write: the write reads ingestedAt again under its path lock and leaves b.sql alone.
    const old = ['a', 'b', 'c'].map((p) => small(`${p}.sql`, `${p}-old`, T(1)))
    const newer = small('b.sql', 'b-new', T(5))
    await appendFailures(file, failed(old))
    const result = await replay({
      batchSize: 10,
      openWriter: async () => {
        const real = await open()
        const racing: ReplayWriter = {
          applyPrepared: async (items, o) => {
            await write([newer])
            return real.applyPrepared(items, o)
          },
          fileStates: (p) => real.fileStates(p),
          removeOrphans: (t, c) => real.removeOrphans(t, c),
          close: () => real.close(),
        }
        return racing
      },
    })
    expect(result).to.deep.include({replayed: 2, skipped: 1, remaining: 0, fileState: 'removed'})
    expect(result.skippedBy).to.deep.equal({sameContent: 0, superseded: 1, gone: 0})
    const expected = [old[0], newer, old[2]].filter((op) => op !== undefined)
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, expected))
  })

  it('stops when Neo4j drops mid-replay, keeps what is left, and finishes on the next run', async () => {
    const ops = ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => small(`${p}.sql`, p))
    await appendFailures(file, failed(ops))
    const proxy = await startProxy(ctx.uri)
    try {
      let calls = 0
      const result = await replay({
        openWriter: async () => {
          const real = await open(proxy.uri)
          const dropping: ReplayWriter = {
            applyPrepared: async (items, o) => {
              if (calls++ === 1) await proxy.down()
              return real.applyPrepared(items, o)
            },
            fileStates: (p) => real.fileStates(p),
            removeOrphans: (t, c) => real.removeOrphans(t, c),
            close: () => real.close(),
          }
          return dropping
        },
      })
      expect(result).to.deep.include({replayed: 2, stillFailing: 2, notAttempted: 2, remaining: 4})
      expect(readFailures(file).entries.map((e) => [e.path, e.attempts])).to.deep.equal([
        ['c.sql', 2],
        ['d.sql', 2],
        ['e.sql', 1],
        ['f.sql', 1],
      ])
    } finally {
      await proxy.close()
    }
    expect(await replay()).to.deep.include({replayed: 4, remaining: 0})
    expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, ops))
  })

  describe('the command', () => {
    const env = (): Record<string, string | undefined> => ({
      NEO4J_URI: ctx.uri,
      LINEAGE_STATE_DIR: join(tmp.dir, 'state'),
      LINEAGE_FAILED_FILE: file,
    })

    it('exit 0 when everything went in (the file is removed); --json is the result', async () => {
      await appendFailures(file, failed([small('a.sql', 'a'), small('b.sql', 'b')]))
      const {stdout, error} = await withEnv(env(), () => runCommand('retry-failed --json'))
      expect(error).to.equal(undefined)
      expect(JSON.parse(stdout)).to.deep.include({replayed: 2, remaining: 0, fileState: 'removed', file})
      expect(existsSync(file)).to.equal(false)
      const again = await withEnv(env(), () => runCommand('retry-failed'))
      expect(again.error).to.equal(undefined)
      expect(again.stdout).to.match(/Nothing to replay/)
    })

    it('exit 1 when an invalid line was quarantined, reporting it once; exit 0 after', async () => {
      await appendFailures(file, failed([small('a.sql', 'a')]))
      writeFileSync(file, `${readFileSync(file, 'utf8')}not json\n`)
      const {stdout, stderr, error} = await withEnv(env(), () => runCommand(['retry-failed', file]))
      expect(error?.oclif?.exit).to.equal(1)
      expect(stdout).to.match(/Replayed 1, skipped 0 .*still failing 0, invalid 1/)
      expect(stdout).to.match(/1 invalid line\(s\) moved to .*\.quarantine/)
      expect(stderr).to.match(/invalid line\(s\) moved to .*\.quarantine: 2 \(not JSON/)
      const again = await withEnv(env(), () => runCommand(['retry-failed', file]))
      expect(again.error).to.equal(undefined)
    })

    it('exit 69 when Neo4j is unreachable, changing nothing; --dry-run changes nothing', async () => {
      await appendFailures(file, failed([small('a.sql', 'a')]))
      const bytes = readFileSync(file)
      const down = await withEnv({...env(), NEO4J_URI: 'bolt://127.0.0.1:1'}, () => runCommand('retry-failed --json'))
      expect(down.error?.oclif?.exit).to.equal(69)
      expect(JSON.parse(down.stdout)).to.have.nested.property('error.code', 'E_NEO4J_UNAVAILABLE')
      expect(readFileSync(file).equals(bytes)).to.equal(true)
      const dry = await withEnv(env(), () => runCommand('retry-failed --dry-run'))
      expect(dry.error).to.equal(undefined)
      expect(dry.stdout).to.match(/Dry run: would replay 1, skip 0/)
      expect(readFileSync(file).equals(bytes)).to.equal(true)
      expect(await ctx.query('MATCH (n) RETURN count(n) AS n')).to.deep.equal([{n: 0}])
    })

    it('exit 78 without NEO4J_URI', async () => {
      await appendFailures(file, failed([small('a.sql', 'a')]))
      const {error} = await withEnv({...env(), NEO4J_URI: undefined}, () => runCommand('retry-failed'))
      expect(error?.oclif?.exit).to.equal(78)
    })

    it('killed with SIGKILL mid-replay loses nothing; the next run finishes', async function () {
      this.timeout(300_000)
      const ops = Array.from({length: 400}, (_, i) => bigFile(`f${i}.sql`, 3, `t${i}`))
      await appendFailures(file, failed(ops))
      const original = readFailures(file).entries
      const startSize = statSync(file).size
      // Baseline mode and small chunks: slow enough to be killed in the middle.
      const child = spawn(process.execPath, [resolve('bin/run.js'), 'retry-failed', file, '--batch-size', '5'], {
        cwd: tmp.dir,
        env: {...process.env, ...env(), FEATURE_NEO4J_BATCH: 'false'},
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      let exit: number | string | null | undefined
      const exited = new Promise<void>((done) =>
        child.on('exit', (code, signal) => {
          exit = code ?? signal
          done()
        }),
      )
      // Kill once it has committed and rewritten a few chunks.
      for (let i = 0; i < 1200 && exit === undefined; i++) {
        await new Promise((r) => setTimeout(r, 50))
        if (existsSync(file) && statSync(file).size < startSize * 0.9) break
      }
      expect(exit, `retry-failed ended before it could be killed: ${stderr}`).to.equal(undefined)
      child.kill('SIGKILL')
      await exited
      expect(exit).to.equal('SIGKILL')
      const left = readFailures(file)
      expect(left.invalid).to.deep.equal([])
      expect(left.entries.length).to.be.within(1, original.length - 1) // really killed mid-way
      // Every line is either still in the file or fully in the graph.
      const inFile = new Set(left.entries.map((e) => e.id))
      const graph = await ctx.query(
        'MATCH (f:SqlFile) WHERE f.contentHash IS NOT NULL RETURN f.path AS p, f.contentHash AS h',
      )
      const done = new Set(graph.map((g) => `${String(g.p)} ${String(g.h)}`))
      const lost = original.filter((e) => !inFile.has(e.id) && !done.has(`${e.path} ${e.contentHash ?? ''}`))
      expect(lost.map((e) => e.path)).to.deep.equal([])

      const {error} = await withEnv(env(), () => runCommand(['retry-failed', file, '--batch-size', '100']))
      expect(error).to.equal(undefined)
      expect(existsSync(file)).to.equal(false)
      expect(await ctx.graphSnapshot()).to.deep.equal(await cleanIngestion(ctx, ops))
    })
  })
})
