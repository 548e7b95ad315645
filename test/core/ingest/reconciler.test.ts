import {mkdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {outputFileFor} from '../../../src/core/ingest/file-task.js'
import type {GraphStatus, LedgerRow} from '../../../src/core/ingest/ledger.js'
import type {ReconcileInput} from '../../../src/core/ingest/reconciler.js'
import {runReconcile} from '../../helpers/reconcile.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('reconcile: failed graph writes and mass retractions', () => {
  const tmp = useTmpDir()
  let rawDir: string
  let outDir: string
  beforeEach(() => {
    rawDir = join(tmp.dir, 'raw')
    outDir = join(tmp.dir, 'out')
    mkdirSync(rawDir)
  })

  /** A file on disk, its output written, and its ledger row with `graph`. */
  const ingested = (rel: string, graph: GraphStatus): [string, LedgerRow] => {
    writeFileSync(join(rawDir, rel), 'SELECT 1;')
    mkdirSync(outDir, {recursive: true})
    writeFileSync(outputFileFor(outDir, rel), '{}')
    const st = statSync(join(rawDir, rel))
    return [rel, {path: rel, size: st.size, mtimeMs: st.mtimeMs, contentHash: 'h', graph, updatedAt: ''}]
  }
  const gone = (rel: string): [string, LedgerRow] => [
    rel,
    {path: rel, size: 1, mtimeMs: 1, contentHash: 'h', graph: 'written', updatedAt: ''},
  ]
  const run = (ledger: [string, LedgerRow][], extra: Partial<ReconcileInput> = {}) => {
    const {queued, held} = runReconcile({rawDir, outDir, ledger: new Map(ledger), ...extra})
    return {queued: queued.sort(), held}
  }

  it('ingests again a file whose graph write failed (the failed-ingestion line may be torn)', () => {
    const {queued} = run([ingested('ok.sql', 'written'), ingested('failed.sql', 'failed')])
    expect(queued).to.deep.equal(['upsert failed.sql'])
  })

  it('holds back retractions of more than the share of the folder, and says why', () => {
    const ledger = [ingested('a.sql', 'written'), gone('b.sql'), gone('c.sql'), gone('d.sql')]
    const {queued, held} = run(ledger, {maxRetractShare: 0.5})
    expect(queued).to.deep.equal([])
    expect(held).to.have.length(1)
    expect(held[0]).to.match(/3 of 4 file\(s\) would be retracted \(over 50%\); held back/)
  })

  it('applies them at or under the share, or with no limit (--allow-mass-retract)', () => {
    const half = [ingested('a.sql', 'written'), ingested('b.sql', 'written'), gone('c.sql'), gone('d.sql')]
    expect(run(half, {maxRetractShare: 0.5})).to.deep.equal({queued: ['remove c.sql', 'remove d.sql'], held: []})
    const most = [ingested('a.sql', 'written'), gone('x.sql'), gone('y.sql'), gone('z.sql')]
    const applied = run(most, {maxRetractShare: undefined}).queued.filter((q) => q.startsWith('remove'))
    expect(applied).to.deep.equal(['remove x.sql', 'remove y.sql', 'remove z.sql'])
  })
})
