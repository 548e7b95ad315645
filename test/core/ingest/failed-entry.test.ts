import {expect} from 'chai'

import {fileRows} from '../../../src/core/graph/model.js'
import {parseEntry, parseFileRows, parseMarker} from '../../../src/core/ingest/failed-entry.js'
import {stmt, upsert} from '../../helpers/neo4j.js'

// Moved with parseFileRows from graph/model.ts (test/core/graph/model.test.ts), plus the reasons of entries.
describe('failed-entry', () => {
  describe('parseFileRows', () => {
    const good = fileRows(
      upsert('f.sql', [stmt(0, {sources: ['a'], targets: ['b'], columns: [{target: 'b.x', sources: ['a.x']}]})]),
    )

    it('accepts rows that went through JSON', () => {
      expect(parseFileRows(JSON.parse(JSON.stringify(good)))).to.deep.equal(good)
      expect(good.reads).to.deep.equal([{statementId: 'f.sql#0', tableKey: 'a', written: 'a'}])
    })

    it('accepts READS and WRITES of an older release, without the name as written', () => {
      const old = JSON.parse(JSON.stringify(good)) as typeof good
      for (const r of [...old.reads, ...old.writes]) delete r.written
      expect(parseFileRows(old)).to.deep.equal(old)
    })

    const broken: [string, (r: Record<string, unknown>) => void][] = [
      ['no file', (r) => delete r.file],
      ['a statement without index', (r) => ((r.statements as Record<string, unknown>[])[0]!.index = 'x')],
      ['a table without key', (r) => ((r.tables as Record<string, unknown>[])[0]!.key = 1)],
      ['reads not a list', (r) => (r.reads = {})],
      ['a name as written that is no string', (r) => ((r.writes as Record<string, unknown>[])[0]!.written = 7)],
      ['a derive without source', (r) => delete (r.columnDerives as Record<string, unknown>[])[0]!.sourceKey],
    ]
    for (const [what, breakIt] of broken) {
      it(`rejects rows with ${what}`, () => {
        const copy = JSON.parse(JSON.stringify(good)) as Record<string, unknown>
        breakIt(copy)
        expect(parseFileRows(copy)).to.equal(null)
      })
    }
  })

  describe('parseEntry', () => {
    const rows = fileRows(upsert('a.sql', [stmt(0)]))
    const good = {
      v: 1,
      id: 'x',
      op: 'upsert',
      path: 'a.sql',
      contentHash: rows.file.contentHash,
      dialect: 'ansi',
      opTime: 'T1',
      rows,
      error: 'e',
      code: 'E',
      time: 'T2',
      attempts: 1,
    }

    it('accepts an entry that went through JSON, and a retraction', () => {
      expect(parseEntry(JSON.stringify(good))).to.deep.equal(good)
      const retract = {...good, op: 'retract', path: 'b.sql', rows: {path: 'b.sql', at: 'T1'}}
      delete (retract as Partial<typeof retract>).contentHash
      delete (retract as Partial<typeof retract>).dialect
      expect(parseEntry(JSON.stringify(retract))).to.deep.equal(retract)
    })

    const reasons: [string, unknown, string][] = [
      ['an array', [good], 'not a JSON object'],
      ['a string', 'x', 'not a JSON object'],
      ['another version (checked first)', {...good, v: 2, op: 'other'}, 'unknown version 2'],
      ['no id', {...good, id: undefined}, 'field id missing or not a string'],
      ['a number for time', {...good, time: 5}, 'field time missing or not a string'],
      ['attempts not whole', {...good, attempts: 1.5}, 'field attempts missing or not an integer'],
      ['an unknown op', {...good, op: 'merge'}, 'unknown op "merge"'],
      ['rows of another path', {...good, path: 'b.sql'}, 'upsert rows invalid'],
      [
        'retraction rows of another path',
        {...good, op: 'retract', rows: {path: 'c', at: 'T'}},
        'retraction rows invalid',
      ],
    ]
    for (const [what, value, reason] of reasons) {
      it(`says why a line is not an entry: ${what}`, () => {
        expect(parseEntry(JSON.stringify(value))).to.equal(reason)
      })
    }

    it('says when a line is not JSON', () => {
      expect(parseEntry('{"v":1,')).to.match(/^not JSON: /)
    })
  })

  it('parseMarker: a superseded marker, or undefined for anything else', () => {
    const marker = {v: 1, id: 'm', op: 'superseded', path: 'a.sql', opTime: 'T1', time: 'T2'}
    expect(parseMarker(JSON.stringify(marker))).to.deep.equal(marker)
    expect(parseMarker(JSON.stringify({...marker, opTime: 1}))).to.equal(undefined)
    expect(parseMarker('{"op":"superseded"')).to.equal(undefined)
    expect(parseMarker(JSON.stringify({...marker, op: 'upsert'}))).to.equal(undefined)
  })
})
