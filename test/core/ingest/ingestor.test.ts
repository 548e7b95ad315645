import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {FileTask, FileTaskResult} from '../../../src/core/ingest/file-task.js'
import type {GraphSink} from '../../../src/core/graph/connection.js'
import type {GraphOp} from '../../../src/core/graph/model.js'
import {failedFileSink} from '../../../src/core/ingest/dead-letter.js'
import {type IngestConfig, Ingestor} from '../../../src/core/ingest/ingestor.js'
import {Ledger} from '../../../src/core/ingest/ledger.js'
import {silentLogger} from '../../../src/core/logger.js'
import {inlineParser, type Parser} from '../../../src/core/ingest/parsers.js'
import {useTmpDir} from '../../helpers/tmp.js'

/** A pool that "reads" files from a map of path -> content hash, honouring knownHash like runFileTask does. */
function fakePool(disk: Map<string, string>, seen: FileTask[]): Parser {
  return {
    thread: 'worker',
    run: (task: FileTask): Promise<FileTaskResult> => {
      seen.push(task)
      const hash = disk.get(task.relPath) ?? 'missing'
      const base = {relPath: task.relPath, contentHash: hash, size: 1, mtimeMs: seen.length}
      if (task.knownHash === hash) return Promise.resolve({kind: 'unchanged', ...base})
      const lineage = {
        path: task.relPath,
        dialect: 'ansi',
        status: 'ok' as const,
        sources: [],
        targets: [hash],
        statements: [],
        errors: [],
        parserVersion: 't',
      }
      return Promise.resolve({kind: 'parsed', ...base, lineage, cacheHit: false, parseMs: 0})
    },
  }
}

/** A writer whose writes are held until released, recording their order. */
function heldWriter(log: string[], graph: Map<string, string>) {
  const gates: (() => void)[] = []
  const writer: GraphSink = {
    apply: async (ops: GraphOp[]) => {
      const name = ops.map((o) => (o.op === 'upsert' ? `${o.path}=${o.contentHash}` : `-${o.path}`)).join(',')
      log.push(`start ${name}`)
      await new Promise<void>((resolve) => gates.push(resolve))
      for (const op of ops) {
        if (op.op === 'upsert') graph.set(op.path, op.contentHash)
        else graph.delete(op.path)
      }
      log.push(`end ${name}`)
      return {failed: [], transactions: 1}
    },
  }
  const release = async (): Promise<void> => {
    for (let i = 0; i < 50 && gates.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    gates.shift()?.()
  }
  return {writer, release}
}

describe('Ingestor: parsing the next batch while the previous one is written (FEATURE_PARALLEL)', () => {
  let ledger: Ledger
  const tmp = useTmpDir({
    cleanup: () => {
      ledger.close()
    },
  })
  beforeEach(() => {
    ledger = Ledger.open(join(tmp.dir, 'ledger.sqlite'), silentLogger)
  })

  const config = (parallel: boolean): IngestConfig => ({
    features: {'parse-cache': true, batching: true, 'neo4j-batch': true, parallel, metrics: false},
    rawDir: join(tmp.dir, 'raw'),
    outDir: join(tmp.dir, 'out'),
    failedFile: join(tmp.dir, 'failed.jsonl'),
    dialect: 'ansi',
    maxFileBytes: 1e6,
    parseTimeoutMs: 1000,
  })

  function setup(parallel: boolean) {
    const disk = new Map<string, string>()
    const seen: FileTask[] = []
    const log: string[] = []
    const graph = new Map<string, string>()
    const held = heldWriter(log, graph)
    const parses: string[] = []
    const ingestor = new Ingestor(config(parallel), {
      logger: silentLogger,
      ledger,
      inline: inlineParser(() => undefined),
      pool: () => fakePool(disk, seen),
      graph: held.writer,
      failures: failedFileSink(join(tmp.dir, 'failed.jsonl')),
      observer: {parseStarted: (e) => parses.push(e.thread)},
    })
    return {disk, seen, log, graph, ingestor, parses, release: held.release}
  }
  const upsert = (relPath: string) => ({op: 'upsert' as const, relPath, at: performance.now()})

  it('returns before the write lands, writes one batch at a time in order, and drain() waits for the last', async () => {
    const {disk, log, ingestor, release} = setup(true)
    disk.set('a.sql', 'h1')
    disk.set('b.sql', 'h1')
    await ingestor.process([upsert('a.sql')])
    expect(ingestor.stats.inFlight).to.equal(1)
    expect(ledger.get('a.sql')).to.equal(undefined)
    // The second batch is parsed while the first is written; its write waits for the first's.
    const second = ingestor.process([upsert('b.sql')])
    await release()
    await second
    await release()
    await ingestor.drain()
    expect(log).to.deep.equal(['start a.sql=h1', 'end a.sql=h1', 'start b.sql=h1', 'end b.sql=h1'])
    expect(ingestor.stats).to.include({inFlight: 0, batches: 2})
    expect(ledger.get('b.sql')?.contentHash).to.equal('h1')
  })

  it('writes a file again when it went back to the content the ledger had while its newer write was in flight', async () => {
    const {disk, seen, graph, ingestor, release} = setup(true)
    ledger.apply([
      {
        path: 'a.sql',
        row: {path: 'a.sql', size: 1, mtimeMs: 0, contentHash: 'h1', graph: 'written', updatedAt: ''},
      },
    ])
    graph.set('a.sql', 'h1')
    disk.set('a.sql', 'h2')
    await ingestor.process([upsert('a.sql')])
    // Undone while h2 is being written: the ledger still says h1, which must not count as "unchanged".
    disk.set('a.sql', 'h1')
    const second = ingestor.process([upsert('a.sql')])
    await release()
    await second
    expect(seen.map((t) => t.knownHash)).to.deep.equal(['h1', undefined])
    await release()
    await ingestor.drain()
    expect(graph.get('a.sql')).to.equal('h1')
    expect(ledger.get('a.sql')?.contentHash).to.equal('h1')
  })

  it("parses the next batch while an earlier one's slowest file still parses, two at most, writing in order", async () => {
    const {disk, seen, log, graph, ingestor, release} = setup(true)
    for (const f of ['slow.sql', 'a.sql', 'b.sql', 'c.sql']) disk.set(f, 'h1')
    // The pool holds slow.sql's parse until told: the other worker must not sit idle behind it.
    const pool = fakePool(disk, seen)
    let finishSlow = (): void => undefined
    const slowDone = new Promise<void>((resolve) => (finishSlow = resolve))
    const gated: Parser = {
      thread: 'worker',
      run: async (task, useCache) => {
        if (task.relPath === 'slow.sql') await slowDone
        return pool.run(task, useCache)
      },
    }
    ;(ingestor as unknown as {deps: {pool: () => Parser}}).deps.pool = () => gated
    await ingestor.process([upsert('slow.sql')])
    await ingestor.process([upsert('a.sql')])
    let third = false
    const accepted = ingestor.process([upsert('b.sql')]).then(() => (third = true))
    await new Promise((r) => setTimeout(r, 30))
    expect(
      seen.map((t) => t.relPath),
      'a.sql parsed while slow.sql still parses',
    ).to.deep.equal(['a.sql'])
    expect(third, 'a third batch waits: two parse at most').to.equal(false)
    expect(log, 'nothing written before the first batch').to.deep.equal([])
    finishSlow()
    await accepted
    // The same path in a batch still parsing: its parse waits for that one.
    disk.set('b.sql', 'h2')
    const fourth = ingestor.process([upsert('b.sql'), upsert('c.sql')])
    for (let i = 0; i < 4; i++) await release()
    await fourth
    await ingestor.drain()
    expect(log.filter((l) => l.startsWith('start'))).to.deep.equal([
      'start slow.sql=h1',
      'start a.sql=h1',
      'start b.sql=h1',
      'start b.sql=h2,c.sql=h1',
    ])
    expect(seen.map((t) => t.relPath)).to.deep.equal(['a.sql', 'slow.sql', 'b.sql', 'b.sql', 'c.sql'])
    expect(graph.get('b.sql')).to.equal('h2')
    expect(ledger.get('b.sql')?.contentHash).to.equal('h2')
    expect(ingestor.stats).to.include({inFlight: 0, batches: 4})
  })

  it('with FEATURE_PARALLEL off returns only once the batch is written', async () => {
    const {ingestor, parses, release} = setup(false)
    mkdirSync(join(tmp.dir, 'raw'), {recursive: true})
    writeFileSync(join(tmp.dir, 'raw', 'a.sql'), 'INSERT INTO x.a SELECT id FROM x.b;')
    let finished = false
    const done = ingestor.process([upsert('a.sql')]).then(() => (finished = true))
    await new Promise((r) => setTimeout(r, 50))
    expect(finished).to.equal(false)
    await release()
    await done
    expect(ingestor.stats).to.include({inFlight: 0})
    expect(parses, 'parsed on the main thread, none in the pool').to.deep.equal(['main'])
    expect(ledger.get('a.sql')?.graph).to.equal('written')
  })
})
