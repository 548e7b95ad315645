import {expect} from 'chai'

import {isLineageError} from '../../../src/core/errors.js'
import {parseSchemaCatalogue} from '../../../src/core/sql/index.js'
import {SchemaIndex} from '../../../src/core/sql/schema.js'

describe('sql schema catalogue', () => {
  it('validates and lower-cases a catalogue', () => {
    expect(parseSchemaCatalogue({'Sales.Orders': ['ID', ' amount ']})).to.deep.equal({'sales.orders': ['id', 'amount']})
  })

  const bad: [string, unknown, RegExp][] = [
    ['not an object', ['a'], /must be a JSON object/],
    ['null', null, /must be a JSON object/],
    ['columns not an array', {t: 'a'}, /entry "t" must be an array/],
    ['an empty column name', {t: ['a', '']}, /entry "t" must be an array of non-empty column names/],
    ['an empty table name', {' ': ['a']}, /empty table name/],
  ]
  for (const [name, json, message] of bad) {
    it(`rejects ${name} as a configuration error (78)`, () => {
      try {
        parseSchemaCatalogue(json)
        expect.fail('expected a configuration error')
      } catch (error) {
        if (!isLineageError(error)) throw error
        expect(error).to.include({code: 'E_CONFIG', exit: 78})
        expect(error.message).to.match(message)
      }
    })
  }

  it('finds a table by its unique last name part, never an ambiguous one', () => {
    const idx = new SchemaIndex({'sales.orders': ['a'], 'x.dup': ['b'], 'y.dup': ['c']})
    expect(idx.columnsOf('ORDERS')).to.deep.equal(['a'])
    expect(idx.columnsOf('sales.orders')).to.deep.equal(['a'])
    expect(idx.columnsOf('dup')).to.equal(null)
    expect(idx.columnsOf('other.orders')).to.equal(null)
  })
})
