import {expect} from 'chai'

import {entityCount, fileRows, KEY_MAX_BYTES, nodeKey, prepareOp, splitColumn} from '../../../src/core/graph/model.js'
import {stmt, upsert} from '../../helpers/neo4j.js'

describe('graph-model', () => {
  describe('splitColumn', () => {
    const cases: [string, {table: string; column: string} | null][] = [
      ['t.c', {table: 't', column: 'c'}],
      ['db.schema.t.c', {table: 'db.schema.t', column: 'c'}],
      ['?.c', null],
      ['c', null],
      ['.c', null],
      ['t.', null],
      ['x}) DETACH DELETE (n.c', {table: 'x}) DETACH DELETE (n', column: 'c'}],
    ]
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
        expect(splitColumn(input)).to.deep.equal(expected)
      })
    }
  })

  it('keys are the value itself up to KEY_MAX_BYTES, a sha256 beyond', () => {
    expect(nodeKey('orders')).to.equal('orders')
    const edge = 'a'.repeat(KEY_MAX_BYTES)
    expect(nodeKey(edge)).to.equal(edge)
    const long = 'é'.repeat(KEY_MAX_BYTES / 2 + 1) // 2 bytes each: just over the limit
    expect(nodeKey(long)).to.match(/^sha256:[0-9a-f]{64}$/)
    expect(nodeKey(long)).to.equal(nodeKey(long))
    expect(nodeKey(long)).not.to.equal(nodeKey(`${long}x`))
  })

  it('maps one statement onto tables, columns and their lineage', () => {
    const rows = fileRows(
      upsert('f.sql', [
        stmt(2, {
          sources: ['s1', 's2', 's1'],
          targets: ['t'],
          columns: [
            {target: 't.a', sources: ['s1.x', 's2.y', '?.z']},
            {target: 't.b', sources: []},
            {target: '?.q', sources: ['s1.x']},
          ],
        }),
      ]),
    )
    expect(rows.file).to.deep.equal({
      path: 'f.sql',
      contentHash: 'hash-of-f.sql',
      dialect: 'ansi',
      ingestedAt: '2026-01-01T00:00:00.000Z',
    })
    expect(rows.statements).to.deep.equal([
      {
        id: 'f.sql#2',
        index: 2,
        kind: 'INSERT',
        line: 7,
        status: 'ok',
        columnKeys: ['s1.x', 's2.y', 't.a', 't.b'],
        unresolvedColumns: ['["?.q","s1.x"]', '["t.a","?.z"]'],
      },
    ])
    expect(rows.tables.map((t) => t.name)).to.deep.equal(['s1', 's2', 't'])
    expect(rows.columns).to.deep.equal([
      {key: 's1.x', id: 's1.x', name: 'x', tableKey: 's1'},
      {key: 's2.y', id: 's2.y', name: 'y', tableKey: 's2'},
      {key: 't.a', id: 't.a', name: 'a', tableKey: 't'},
      {key: 't.b', id: 't.b', name: 'b', tableKey: 't'},
    ])
    expect(rows.reads).to.deep.equal([
      {statementId: 'f.sql#2', tableKey: 's1', written: 's1'},
      {statementId: 'f.sql#2', tableKey: 's2', written: 's2'},
    ])
    expect(rows.writes).to.deep.equal([{statementId: 'f.sql#2', tableKey: 't', written: 't'}])
    expect(rows.tableDerives).to.deep.equal([
      {statementId: 'f.sql#2', targetKey: 't', sourceKey: 's1'},
      {statementId: 'f.sql#2', targetKey: 't', sourceKey: 's2'},
    ])
    expect(rows.columnDerives).to.deep.equal([
      {statementId: 'f.sql#2', targetKey: 't.a', sourceKey: 's1.x'},
      {statementId: 'f.sql#2', targetKey: 't.a', sourceKey: 's2.y'},
    ])
    // 1 file + 1 statement + 3 tables + 4 columns; CONTAINS 1, READS 2, WRITES 1, HAS_COLUMN 4, DERIVES 2 + 2
    expect(entityCount(rows)).to.equal(9 + 12)
  })

  it('keys tables by the resolved name and keeps the name as written on READS and WRITES', () => {
    const rows = fileRows(
      upsert('f.sql', [
        stmt(0, {
          sources: ['SALES.ORDERS'],
          targets: ['MART.Daily'],
          written: {'SALES.ORDERS': 'orders', 'MART.Daily': 'Mart."Daily"'},
        }),
      ]),
    )
    expect(rows.tables).to.deep.equal([
      {key: 'MART.Daily', name: 'MART.Daily'},
      {key: 'SALES.ORDERS', name: 'SALES.ORDERS'},
    ])
    expect(rows.reads).to.deep.equal([{statementId: 'f.sql#0', tableKey: 'SALES.ORDERS', written: 'orders'}])
    expect(rows.writes).to.deep.equal([{statementId: 'f.sql#0', tableKey: 'MART.Daily', written: 'Mart."Daily"'}])
  })

  it('adds a column table that the statement neither reads nor writes as a Table node', () => {
    const rows = fileRows(upsert('f.sql', [stmt(0, {columns: [{target: 'elsewhere.c', sources: []}]})]))
    expect(rows.tables).to.deep.equal([{key: 'elsewhere', name: 'elsewhere'}])
    expect(rows.reads).to.deep.equal([])
  })

  it('keeps one statement per index and orders statements by index', () => {
    const rows = fileRows(upsert('f.sql', [stmt(1, {kind: 'B'}), stmt(0, {kind: 'A'}), stmt(1, {kind: 'C'})]))
    expect(rows.statements.map((s) => `${s.id}:${s.kind}`)).to.deep.equal(['f.sql#0:A', 'f.sql#1:B'])
  })

  it('stores a 10k-character table name verbatim under a hashed key', () => {
    const name = 'T'.repeat(10_000)
    const rows = fileRows(upsert('f.sql', [stmt(0, {targets: [name], columns: [{target: `${name}.c`, sources: []}]})]))
    expect(rows.tables).to.deep.equal([{key: nodeKey(name), name}])
    expect(rows.columns[0]).to.deep.equal({
      key: nodeKey(`${name}.c`),
      id: `${name}.c`,
      name: 'c',
      tableKey: nodeKey(name),
    })
  })

  it('prepares retractions and upserts with the time that orders them', () => {
    expect(prepareOp({op: 'retract', path: 'p', at: 'T1'}, 'ns')).to.deep.equal({
      op: 'retract',
      namespace: 'ns',
      path: 'p',
      time: 'T1',
    })
    const up = upsert('p', [stmt(0)], 'h', 'T2')
    expect(prepareOp(up, 'ns')).to.deep.equal({
      op: 'upsert',
      namespace: 'ns',
      path: 'p',
      time: 'T2',
      rows: fileRows(up),
    })
  })
})
