import {expect} from 'chai'

import {BATCH_ORDER, BATCH_QUERIES, ENTITY_ORDER, ENTITY_QUERIES} from '../../../src/core/graph/cypher.js'
import {batchRows} from '../../../src/core/graph/rows.js'
import {fileRows, type FileRows} from '../../../src/core/graph/model.js'
import {stmt, upsert} from '../../helpers/neo4j.js'

describe('graph rows and queries (batched, and the baseline)', () => {
  const a = fileRows(
    upsert('a.sql', [
      stmt(0, {sources: ['raw.x'], targets: ['mart.y'], columns: [{target: 'mart.y.id', sources: ['raw.x.id']}]}),
    ]),
  )
  const b = fileRows(
    upsert('b.sql', [
      stmt(0, {sources: ['raw.x'], targets: ['mart.z'], columns: [{target: 'mart.z.id', sources: ['raw.x.id']}]}),
    ]),
  )

  it('merges the nodes of several files once each, sorted by key, and keeps every relationship as keys', () => {
    const rows = batchRows([a, b])
    expect(rows.tables).to.deep.equal([
      {key: 'mart.y', name: 'mart.y'},
      {key: 'mart.z', name: 'mart.z'},
      {key: 'raw.x', name: 'raw.x'},
    ])
    expect((rows.columns as {key: string}[]).map((c) => c.key)).to.deep.equal(['mart.y.id', 'mart.z.id', 'raw.x.id'])
    expect(rows.looseColumns).to.deep.equal([])
    expect(rows.contains).to.deep.equal([
      {path: 'a.sql', id: 'a.sql#0'},
      {path: 'b.sql', id: 'b.sql#0'},
    ])
    expect(rows.columnDerives).to.deep.equal([
      {statementId: 'a.sql#0', targetKey: 'mart.y.id', sourceKey: 'raw.x.id'},
      {statementId: 'b.sql#0', targetKey: 'mart.z.id', sourceKey: 'raw.x.id'},
    ])
    expect(rows.files).to.have.length(2)
  })

  it('creates endpoints that no node row names, as the one-by-one MERGE would (rows from elsewhere)', () => {
    const partial: FileRows = {...a, tables: [], columns: []}
    const rows = batchRows([partial])
    expect(rows.tables).to.deep.equal([
      {key: 'mart.y', name: 'mart.y'},
      {key: 'raw.x', name: 'raw.x'},
    ])
    expect(rows.looseColumns).to.deep.equal([
      {key: 'mart.y.id', id: 'mart.y.id', name: 'mart.y.id'},
      {key: 'raw.x.id', id: 'raw.x.id', name: 'raw.x.id'},
    ])
  })

  it('creates nodes before the relationships that match them, and only statement relationships are CREATEd', () => {
    const position = (q: string) => BATCH_ORDER.indexOf(q as (typeof BATCH_ORDER)[number])
    for (const rel of ['contains', 'reads', 'writes', 'tableDerives', 'columnDerives'] as const) {
      expect(BATCH_QUERIES[rel]).to.match(/\bCREATE \(/)
      expect(BATCH_QUERIES[rel]).not.to.match(/\bMERGE\b/)
      for (const node of ['files', 'statements', 'tables', 'columns', 'looseColumns']) {
        expect(position(node)).to.be.lessThan(position(rel))
      }
    }
    expect(BATCH_QUERIES.columns).to.match(/MERGE \(t\)-\[:HAS_COLUMN\]->\(c\)/)
    expect(new Set(BATCH_ORDER).size).to.equal(Object.keys(BATCH_QUERIES).length)
  })

  it('baseline: nodes before relationships, and the SqlFile is not among them (it is written last, alone)', () => {
    const nodes = ['statements', 'tables', 'columns']
    const position = (q: string) => ENTITY_ORDER.indexOf(q as (typeof ENTITY_ORDER)[number])
    for (const rel of ['contains', 'reads', 'writes', 'hasColumn', 'tableDerives', 'columnDerives']) {
      for (const node of nodes) expect(position(node)).to.be.lessThan(position(rel))
    }
    expect(ENTITY_ORDER).not.to.include('files')
    expect([...ENTITY_ORDER, 'files'].sort()).to.deep.equal(Object.keys(ENTITY_QUERIES).sort())
  })
})
