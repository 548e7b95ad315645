import {appendFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {retryFailed, type ReplayWriter, silentLogger} from '../../../src/core/index.js'
import {type GraphOp, type PreparedOp} from '../../../src/core/graph/model.js'
import {type FileState} from '../../../src/core/graph/writer.js'
import {appendFailures, readFailures} from '../../../src/core/ingest/dead-letter.js'
import {stmt, upsert} from '../../helpers/neo4j.js'
import {useTmpDir} from '../../helpers/tmp.js'

const T = (n: number): string => `2026-01-01T00:00:${String(n).padStart(2, '0')}.000Z`
const up = (path: string, n: number): GraphOp =>
  upsert(path, [stmt(0, {sources: ['s'], targets: [`t_${n}`]})], `hash-${path}-${n}`, T(n))
const down = (op: GraphOp) => ({op, code: 'E_NEO4J_UNAVAILABLE', error: 'down'})

/** A graph that holds nothing and accepts every write, recording them (as superseded-markers.test.ts). */
function emptyGraph(written: PreparedOp[]): ReplayWriter {
  return {
    applyPrepared: (items) => (written.push(...items), Promise.resolve({written: items, failed: [], transactions: 1})),
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

interface Quarantined {
  raw: string
  reason: string
  quarantinedAt: string
}
const quarantined = (file: string): Quarantined[] =>
  readFileSync(`${file}.quarantine`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Quarantined)

/** Cut the file's last line to its first `keep` bytes, as an append stopped by a full disk leaves it. */
function tearLastLine(file: string, keep: number): string {
  const text = readFileSync(file, 'utf8')
  const start = text.lastIndexOf('\n', text.length - 2) + 1
  const fragment = text.slice(start, start + keep)
  writeFileSync(file, text.slice(0, start) + fragment)
  return fragment
}

describe('failed-ingestion file: a torn last line', () => {
  const tmp = useTmpDir()
  let file: string
  beforeEach(() => {
    file = join(tmp.dir, 'failed_ingestion.jsonl')
  })

  const replay = (writer: ReplayWriter) =>
    retryFailed({
      file,
      namespace: 'ns',
      openWriter: () => Promise.resolve(writer),
      batched: true,
      batchSize: 10,
      dryRun: false,
      logger: silentLogger,
    })

  it('is cut off and quarantined by the next append, which is never glued onto it', async () => {
    await appendFailures(file, [down(up('a.sql', 1)), down(up('b.sql', 2))])
    const fragment = tearLastLine(file, 150)
    const torn: string[] = []
    await appendFailures(file, [down(up('c.sql', 3))], undefined, (f) => torn.push(f))

    const read = readFailures(file)
    expect(read.invalid).to.deep.equal([])
    expect(read.entries.map((e) => e.path)).to.deep.equal(['a.sql', 'c.sql'])
    // The fragment still names b.sql and its time: older entries of b.sql must not be replayed over it.
    expect(read.markers.map((m) => [m.path, m.opTime])).to.deep.equal([['b.sql', T(2)]])
    expect(torn).to.deep.equal([fragment])
    const [moved, ...more] = quarantined(file)
    expect(more).to.deep.equal([])
    expect(moved).to.deep.include({raw: fragment, reason: 'torn last line (an append cut short)'})
    expect(moved?.quarantinedAt).to.match(/^\d{4}-\d\d-\d\dT/)
  })

  it('a fragment too short to name its path is quarantined and leaves no marker', async () => {
    await appendFailures(file, [down(up('a.sql', 1)), down(up('b.sql', 2))])
    tearLastLine(file, 20)
    await appendFailures(file, [down(up('c.sql', 3))])
    const read = readFailures(file)
    expect(read.entries.map((e) => e.path)).to.deep.equal(['a.sql', 'c.sql'])
    expect(read.markers).to.deep.equal([])
    expect(quarantined(file)).to.have.length(1)
  })

  it('retry-failed: a torn retraction never lets the upsert before it resurrect the file', async () => {
    await appendFailures(file, [down(up('kept.sql', 1)), down(up('gone.sql', 2))])
    await appendFailures(file, [down({op: 'retract', path: 'gone.sql', at: T(5)})])
    const fragment = tearLastLine(file, 120)
    expect(fragment).to.contain('"path":"gone.sql"')

    const written: PreparedOp[] = []
    const result = await replay(emptyGraph(written))
    expect(written.map((w) => `${w.op} ${w.path}`)).to.deep.equal(['upsert kept.sql'])
    expect(result).to.deep.include({replayed: 1, invalid: 1, quarantined: 1, remaining: 0, fileState: 'removed'})
    expect(result.skippedBy.superseded).to.equal(1)
    expect(quarantined(file).map((q) => q.raw)).to.deep.equal([fragment])
  })

  it('retry-failed keeps what a service appended after cutting the torn line it had read', async () => {
    await appendFailures(file, [down(up('a.sql', 1))])
    appendFileSync(file, '{"v":1,"id":"x"')
    const written: PreparedOp[] = []
    const writer = emptyGraph(written)
    const slow: ReplayWriter = {
      ...writer,
      // While the replay writes, a running service appends: it cuts the torn line first.
      applyPrepared: async (items, options) => {
        await appendFailures(file, [down(up('late.sql', 9))])
        return writer.applyPrepared(items, options)
      },
    }
    const result = await replay(slow)
    expect(result).to.deep.include({replayed: 1, quarantined: 1, appended: 1, remaining: 1, fileState: 'rewritten'})
    expect(readFailures(file).entries.map((e) => e.path)).to.deep.equal(['late.sql'])
    expect(readFailures(file).invalid).to.deep.equal([])
  })
})
