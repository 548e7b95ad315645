import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {countFailures, retryFailed, type ReplayWriter, silentLogger} from '../../../src/core/index.js'
import {type GraphOp, type PreparedOp} from '../../../src/core/graph/model.js'
import {type FileState} from '../../../src/core/graph/writer.js'
import {appendFailures, markSuperseded, readFailures} from '../../../src/core/ingest/dead-letter.js'
import {stmt, upsert} from '../../helpers/neo4j.js'
import {useTmpDir} from '../../helpers/tmp.js'

const T = (n: number): string => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`
const up = (path: string, n: number): GraphOp =>
  upsert(path, [stmt(0, {sources: ['s'], targets: [`t_${n}`]})], `hash-${path}-${n}`, T(n))
const down = (op: GraphOp) => ({op, code: 'E_NEO4J_UNAVAILABLE', error: 'down'})

/** A graph that holds nothing and accepts every write (or none, once `failing`). */
function fakeWriter(written: PreparedOp[], failing = false): ReplayWriter {
  return {
    applyPrepared: (items) =>
      Promise.resolve(
        failing
          ? {
              written: [],
              failed: items.map((item) => ({item, code: 'E_NEO4J_UNAVAILABLE', error: 'down'})),
              transactions: 0,
            }
          : (written.push(...items), {written: items, failed: [], transactions: 1}),
      ),
    fileStates: (paths) =>
      Promise.resolve(
        new Map<string, FileState>(
          paths.map((path) => [path, {path, exists: false, contentHash: null, ingestedAt: null, statements: 0}]),
        ),
      ),
    removeOrphans: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }
}

describe('superseded markers in the failed-ingestion file', () => {
  const tmp = useTmpDir()
  let file: string
  beforeEach(() => {
    file = join(tmp.dir, 'failed_ingestion.jsonl')
  })

  const replay = (writer: ReplayWriter, dryRun = false) =>
    retryFailed({
      file,
      namespace: 'ns',
      openWriter: () => Promise.resolve(writer),
      batched: true,
      batchSize: 10,
      dryRun,
      logger: silentLogger,
    })

  it('are written for a path whose last write failed, and for retractions while the file holds lines', async () => {
    const retract: GraphOp = {op: 'retract', path: 'r.sql', at: T(5)}
    expect(await markSuperseded(file, [retract], () => false), 'empty file: nothing to supersede').to.deep.equal([])
    await appendFailures(file, [down(up('a.sql', 1))])
    const markers = await markSuperseded(file, [up('a.sql', 2), up('b.sql', 2), retract], (p) => p === 'a.sql')
    expect(markers.map((m) => [m.path, m.opTime])).to.deep.equal([
      ['a.sql', T(2)],
      ['r.sql', T(5)],
    ])
    const read = readFailures(file)
    expect([read.entries.length, read.markers.length, read.invalid.length]).to.deep.equal([1, 2, 0])
    expect(countFailures(file), 'the backlog counts failures only').to.equal(1)
  })

  it('make retry-failed skip older entries of their path, and go once nothing older is left', async () => {
    await appendFailures(file, [
      down(up('a.sql', 1)),
      down({op: 'retract', path: 'b.sql', at: T(1)}),
      down(up('c.sql', 3)),
    ])
    // a.sql and b.sql were written later (a deletion of a.sql, say); c.sql's marker is older than its entry.
    await markSuperseded(file, [{op: 'retract', path: 'a.sql', at: T(2)}, up('b.sql', 2), up('c.sql', 2)], () => true)
    const dry = await replay(fakeWriter([]), true)
    expect(dry).to.deep.include({replayed: 1, skipped: 2, remaining: 6, fileState: 'unchanged'})
    const written: PreparedOp[] = []
    const result = await replay(fakeWriter(written))
    expect(result).to.deep.include({replayed: 1, skipped: 2, remaining: 0, fileState: 'removed'})
    expect(result.skippedBy.superseded).to.equal(2)
    expect(written.map((w) => [w.op, w.path, w.time])).to.deep.equal([['upsert', 'c.sql', T(3)]])
    expect(existsSync(file)).to.equal(false)
  })

  it('stay while an older entry of their path is left (Neo4j gone mid-replay); alone, they are dropped', async () => {
    await appendFailures(file, [down(up('a.sql', 1)), down(up('x.sql', 1))])
    await markSuperseded(file, [up('x.sql', 2)], () => true)
    // x.sql's entry is superseded (done); a.sql's fails: x.sql's marker goes, the file keeps a.sql's entry.
    const first = await replay(fakeWriter([], true))
    expect(first).to.deep.include({stillFailing: 1, remaining: 1, fileState: 'rewritten'})
    expect(readFailures(file).markers).to.deep.equal([])
    // A marker with nothing before it is dropped without Neo4j.
    await markSuperseded(file, [up('a.sql', 2)], () => true)
    const read = readFailures(file)
    expect([read.entries.length, read.markers.length]).to.deep.equal([1, 1])
    expect(await replay(fakeWriter([]))).to.deep.include({replayed: 0, skipped: 1, remaining: 0, fileState: 'removed'})
    await markSuperseded(file, [{op: 'retract', path: 'q.sql', at: T(9)}], () => true)
    expect(readFileSync(file, 'utf8')).to.match(/"superseded"/)
    let opened = false
    const alone = await retryFailed({
      file,
      namespace: 'ns',
      openWriter: () => {
        opened = true
        return Promise.resolve(fakeWriter([]))
      },
      batched: true,
      batchSize: 10,
      dryRun: false,
      logger: silentLogger,
    })
    expect(alone).to.deep.include({entries: 0, remaining: 0, fileState: 'removed'})
    expect(opened).to.equal(false)
  })
})
