import {expect} from 'chai'

import {KnownNodes, MAX_KNOWN_KEYS} from '../../../src/core/graph/known-nodes.js'
import {fileRows} from '../../../src/core/graph/model.js'
import {batchRows, withoutKnown} from '../../../src/core/graph/rows.js'
import {stmt, upsert} from '../../helpers/neo4j.js'

describe('nodes written before (graph/known-nodes)', () => {
  const rows = batchRows([
    fileRows(
      upsert('a.sql', [
        stmt(0, {
          sources: ['raw.x'],
          targets: ['mart.y'],
          columns: [
            {target: 'mart.y.id', sources: ['raw.x.id']},
            // No source: nothing MATCHes this column, so it is never left out.
            {target: 'mart.y.loaded', sources: []},
          ],
        }),
      ]),
    ),
  ])
  const keys = (list: {key: string}[]) => list.map((n) => n.key)

  it('sends every node while nothing is known', () => {
    expect(withoutKnown(rows, new KnownNodes())).to.equal(rows)
  })

  it('leaves out known nodes only where a relationship row of the same write MATCHes them', () => {
    const known = new KnownNodes()
    known.remember(['raw.x', 'mart.y'], ['raw.x.id', 'mart.y.id', 'mart.y.loaded'])
    const sent = withoutKnown(rows, known)
    // mart.y.loaded has no DERIVES_FROM row, so only a MERGE would bring it back if it had gone.
    expect(keys(sent.columns)).to.deep.equal(['mart.y.loaded'])
    // mart.y is still the table of a Column row sent (the Column query MATCHes it); raw.x is READ.
    expect(keys(sent.tables)).to.deep.equal([])
    expect(sent.columnDerives).to.deep.equal(rows.columnDerives)
    expect(sent.reads).to.deep.equal(rows.reads)
  })

  it('sends a node again once it is forgotten (deleted as an orphan)', () => {
    const known = new KnownNodes()
    known.remember(['raw.x', 'mart.y'], ['raw.x.id', 'mart.y.id'])
    known.forget(['raw.x'], ['raw.x.id'])
    const sent = withoutKnown(rows, known)
    expect(keys(sent.columns)).to.deep.equal(['mart.y.loaded', 'raw.x.id'])
    expect(keys(sent.tables)).to.deep.equal(['raw.x'])
  })

  it('starts again empty past its bound, so memory stays bounded', () => {
    const known = new KnownNodes()
    const many = Array.from({length: MAX_KNOWN_KEYS + 1}, (_, i) => `t${i}`)
    known.remember(many, [])
    expect(known.size).to.equal(0)
    known.remember(['a'], ['a.b'])
    expect(known.size).to.equal(2)
  })
})
