import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {lineage, pairs} from './helpers.js'

// Our own cases, in the style of ../shared/lineage-cases, for the misses issue 15 named.
interface Case {
  id: string
  dialect: string
  sql: string
  sources: string[]
  targets: string[]
  lineage: {source: {column: string; table: string}; target: {column: string; table: string}}[]
}

const cases = JSON.parse(
  readFileSync(new URL('../../fixtures/sql/issue-15-cases.json', import.meta.url), 'utf8'),
) as Case[]

describe('sql issue-15 lineage cases', () => {
  for (const c of cases) {
    it(c.id, () => {
      const f = lineage(c.sql, c.dialect)
      expect(f.status).to.equal('ok')
      expect(f.sources).to.deep.equal([...c.sources].sort())
      expect(f.targets).to.deep.equal([...c.targets].sort())
      const expected = c.lineage.map(
        (l) => `${l.source.table}.${l.source.column} -> ${l.target.table}.${l.target.column}`,
      )
      expect(pairs(f)).to.deep.equal(expected.sort())
    })
  }
})
