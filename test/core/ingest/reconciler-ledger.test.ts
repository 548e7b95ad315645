/**
 * The reconcile over the SQLite ledger itself: its rows streamed in path order and merged with the folder's
 * sorted listing (no Map of every row). What it finds must be what the reconcile over a Map found: changed,
 * new and output-less files ingested, rows and orphan outputs without a file retracted, a dead writer's temp
 * files removed.
 */
import {existsSync, mkdirSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {expect} from 'chai'

import {silentLogger} from '../../../src/core/index.js'
import {outputFileFor} from '../../../src/core/ingest/file-task.js'
import {Ledger, type LedgerRow} from '../../../src/core/ingest/ledger.js'
import {byCodePoint, type ReconcileInput} from '../../../src/core/ingest/reconciler.js'
import {runReconcile} from '../../helpers/reconcile.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('reconcile over the SQLite ledger, streamed', () => {
  let ledger: Ledger | undefined
  const tmp = useTmpDir({cleanup: () => ledger?.close()})
  let rawDir: string
  let outDir: string
  beforeEach(() => {
    rawDir = join(tmp.dir, 'raw')
    outDir = join(tmp.dir, 'out')
    mkdirSync(rawDir)
    ledger = Ledger.open(join(tmp.dir, 'state', 'ledger.sqlite'), silentLogger)
  })

  const file = (rel: string, content = 'SELECT 1;'): void => {
    mkdirSync(dirname(join(rawDir, rel)), {recursive: true})
    writeFileSync(join(rawDir, rel), content)
  }
  const output = (rel: string): string => {
    const out = outputFileFor(outDir, rel)
    mkdirSync(dirname(out), {recursive: true})
    writeFileSync(out, '{}')
    return out
  }
  const row = (rel: string, size?: number): {path: string; row: LedgerRow} => {
    const st = existsSync(join(rawDir, rel)) ? statSync(join(rawDir, rel)) : {size: 1, mtimeMs: 1}
    const r = {path: rel, size: size ?? st.size, mtimeMs: st.mtimeMs, contentHash: 'h', updatedAt: ''}
    return {path: rel, row: {...r, graph: 'written'}}
  }
  /** A file on disk, its output and its ledger row: nothing to do. */
  const ingested = (rel: string): void => {
    file(rel)
    output(rel)
    ledger!.apply([row(rel)])
  }
  const run = (extra: Partial<ReconcileInput> = {}) => runReconcile({rawDir, outDir, ledger: ledger!, ...extra})

  it('finds what changed, appeared or vanished, and what lost its output; upserts first', () => {
    ingested('fresh.sql')
    ingested('deep/er/fresh.sql')
    file('changed.sql')
    output('changed.sql')
    ledger!.apply([row('changed.sql', 999)])
    file('new.sql')
    file('deep/no-output.sql')
    ledger!.apply([row('deep/no-output.sql')])
    output('deleted.sql')
    ledger!.apply([row('deleted.sql')])
    ledger!.apply([row('gone/never-written.sql')])
    // Written by a run killed before its ledger row landed, its file deleted since.
    output('deep/orphan.sql')

    const {queued, count} = run()

    const upserts = queued.filter((q) => q.startsWith('upsert'))
    const removals = queued.filter((q) => q.startsWith('remove'))
    expect(queued).to.deep.equal([...upserts, ...removals])
    expect(upserts.sort()).to.deep.equal(['upsert changed.sql', 'upsert deep/no-output.sql', 'upsert new.sql'])
    // deleted.sql once: its output has no file, but its row is retracted already.
    expect(removals.sort()).to.deep.equal([
      'remove deep/orphan.sql',
      'remove deleted.sql',
      'remove gone/never-written.sql',
    ])
    expect(count).to.equal(6)
  })

  it('merges in SQLite order: names above U+FFFF and in U+E000-U+FFFF are matched with their rows', () => {
    // UTF-16 order puts the emoji (a surrogate pair) before U+FF01; SQLite (UTF-8 bytes) puts it after. A merge
    // in the wrong order would ingest one of these again and retract it in the same breath.
    for (const rel of ['a\u{1F600}.sql', 'a\uFF01.sql', 'a\uFF01/b.sql', 'a\u{1F600}/b.sql', 'a.sql', 'ab.sql']) {
      ingested(rel)
    }
    expect(run().queued).to.deep.equal([])
  })

  it('removes a dead writer temp files and keeps a live one, with the ledger streamed', () => {
    ingested('deep/a.sql')
    const dead = `${outputFileFor(outDir, 'deep/a.sql')}.3735928559`
    const live = `${outputFileFor(outDir, 'b.sql')}.4023233417`
    writeFileSync(dead, '{')
    writeFileSync(live, '{')
    const before = new Date(performance.timeOrigin - 60_000)
    utimesSync(dead, before, before)

    expect(run().queued).to.deep.equal([])
    expect(existsSync(dead), 'temp file of a dead writer').to.equal(false)
    expect(existsSync(live), 'temp file of a live writer').to.equal(true)
  })

  it('holds back mass retraction against the count of the ledger rows', () => {
    ingested('a.sql')
    ledger!.apply([row('b.sql'), row('c.sql'), row('d.sql')])
    const {queued, held} = run({maxRetractShare: 0.5})
    expect(queued).to.deep.equal([])
    expect(held[0]).to.match(/3 of 4 file\(s\) would be retracted \(over 50%\); held back/)
  })

  it('reads the rows once, in path order, and never asks for them all', () => {
    for (const rel of ['c.sql', 'a.sql', 'b/x.sql', 'b.sql']) ingested(rel)
    const seen: string[] = []
    const scan = {
      *rows(): Generator<LedgerRow> {
        for (const r of ledger!.rows()) {
          seen.push(r.path)
          yield r
        }
      },
      count: () => ledger!.count(),
    }
    expect(run({ledger: scan}).queued).to.deep.equal([])
    expect(seen).to.deep.equal(['a.sql', 'b.sql', 'b/x.sql', 'c.sql'])
  })

  it('byCodePoint orders as SQLite does (UTF-8 bytes)', () => {
    const names = ['a', 'ab', '', 'a\u{1F600}', 'a\uFF01', 'a\uE000', 'a\uD7FF', 'a/b', 'a.b', 'é', 'z', '\u{10FFFF}']
    const bytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    expect([...names].sort(byCodePoint)).to.deep.equal(bytes)
  })
})
