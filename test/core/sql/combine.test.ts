import {expect} from 'chai'

import type {StatementLineage} from '../../../src/core/types.js'
import {combineColumns, combineStatements} from '../../../src/core/sql/combine.js'

function st(sources: string[], targets: string[], extra: Partial<StatementLineage> = {}): StatementLineage {
  return {
    index: 0,
    kind: 'INSERT',
    line: 1,
    column: 1,
    sources,
    targets,
    columns: [],
    grammar: 'mysql',
    status: 'ok',
    error: null,
    ...extra,
  }
}

describe('sql file-level combination', () => {
  const cases: [string, StatementLineage[], string[], string[]][] = [
    ['a read-only statement gives sources', [st(['a', 'b'], [])], ['a', 'b'], []],
    ['a write-only statement gives targets', [st([], ['t'])], [], ['t']],
    ['a temporary table collapses', [st(['a'], ['tmp']), st(['tmp'], ['b'])], ['a'], ['b']],
    ['a statement reading its own target keeps it on both sides', [st(['t', 's'], ['t'])], ['s', 't'], ['t']],
    ['DROP removes a table nothing links to', [st([], ['t']), st([], [], {kind: 'DROP TABLE', drops: ['t']})], [], []],
    [
      'DROP keeps a table that is linked',
      [st(['a'], ['t']), st([], [], {kind: 'DROP TABLE', drops: ['t']})],
      ['a'],
      ['t'],
    ],
    [
      'RENAME moves the links',
      [st(['a'], ['t1']), st([], [], {kind: 'ALTER TABLE', renames: [{from: 't1', to: 't2'}]})],
      ['a'],
      ['t2'],
    ],
    [
      'RENAME of an unknown table adds nothing',
      [st([], [], {kind: 'RENAME TABLE', renames: [{from: 'x', to: 'y'}]})],
      [],
      [],
    ],
    ['a DELETE without sources adds nothing', [st([], ['t'], {kind: 'DELETE'})], [], []],
    ['a DELETE with sources links them', [st(['s'], ['t'], {kind: 'DELETE'})], ['s'], ['t']],
  ]
  for (const [name, statements, sources, targets] of cases) {
    it(name, () => {
      expect(combineStatements(statements)).to.deep.equal({sources, targets})
    })
  }

  it('follows columns through the file to the ones it ends with', () => {
    const cols = combineColumns([
      st(['s'], ['tmp'], {columns: [{target: 'tmp.a', sources: ['s.a']}]}),
      st(['tmp'], ['t'], {columns: [{target: 't.b', sources: ['tmp.a', 's.c']}]}),
      st(['t'], ['t'], {columns: [{target: 't.b', sources: ['t.b']}]}),
    ])
    expect(cols).to.deep.equal([{target: 't.b', sources: ['s.a', 's.c', 't.b']}])
  })
})
