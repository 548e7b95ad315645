import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {generateCorpus} from '../../../src/bench/corpus.js'
import {dialectInfo} from '../../../src/core/sql/dialects.js'
import {fastPathCounts, fastQuery} from '../../../src/core/sql/fast-path.js'
import {extractLineage, type ExtractOptions} from '../../../src/core/sql/index.js'
import {tokenize} from '../../../src/core/sql/lexer.js'
import {SchemaIndex} from '../../../src/core/sql/schema.js'

/**
 * The fast path must never change a result: every file is extracted with it and without it (grammars
 * only) and the two results must be identical, statement by statement (tables, columns, grammar name,
 * status, warnings). The corpora are the lineage cases and the bench corpus, which the fast path was
 * built for; it must also take most of the bench corpus's queries, or it would prove nothing.
 */
interface Case {
  id: string
  dialect: string
  sql: string
  metadata?: Record<string, string[]>
}

const fixture = (path: string): Case[] =>
  JSON.parse(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8')) as Case[]

/** Extract with and without the fast path; returns how many queries the fast path took. */
function sameBothWays(files: {id: string; sql: string; options: Omit<ExtractOptions, 'path'>}[]): number {
  const before = fastPathCounts.taken
  for (const f of files) {
    const grammars = extractLineage(f.sql, {path: f.id, ...f.options, fastPath: false})
    const fast = extractLineage(f.sql, {path: f.id, ...f.options})
    expect(fast, f.id).to.deep.equal(grammars)
  }
  return fastPathCounts.taken - before
}

const ANSI = dialectInfo('ansi')
const take = (sql: string): ReturnType<typeof fastQuery> =>
  fastQuery(sql, tokenize(sql, ANSI.lex), new SchemaIndex(undefined))

describe('sql fast path', () => {
  it('gives the grammar path result on every lineage case', () => {
    const cases = [
      ...fixture('lineage-cases/tables.json'),
      ...fixture('lineage-cases/columns.json'),
      ...fixture('sql/issue-15-cases.json'),
    ]
    const taken = sameBothWays(
      cases.map((c) => ({
        id: c.id,
        sql: c.sql,
        options: {dialect: c.dialect, ...(c.metadata ? {schema: c.metadata} : {})},
      })),
    )
    expect(taken).to.be.at.least(100)
  })

  it('gives the grammar path result on the bench corpus, taking nearly all of its queries', () => {
    const corpus = generateCorpus({files: 40, seed: 42})
    const declined = fastPathCounts.declined
    const taken = sameBothWays(corpus.map((f) => ({id: f.relPath, sql: f.sql, options: {dialect: 'ansi'}})))
    expect(taken).to.be.at.least(300)
    expect(fastPathCounts.declined - declined).to.equal(0)
  })

  it('gives the grammar path result on the project fixtures', () => {
    const files = ['etl.sql', 'star.sql', 'broken.sql'].map((name) => ({
      id: name,
      sql: readFileSync(new URL(`../../fixtures/sql/${name}`, import.meta.url), 'utf8'),
      options: {dialect: 'ansi'},
    }))
    sameBothWays(files)
  })

  it('is not used where the first grammar is not mysql', () => {
    const before = fastPathCounts.taken + fastPathCounts.declined
    extractLineage('INSERT INTO t SELECT a FROM s', {path: 'x.sql', dialect: 'postgres'})
    expect(fastPathCounts.taken + fastPathCounts.declined).to.equal(before)
  })

  describe('reads', () => {
    const cases: [string, string, string[], string[]][] = [
      ['joins and aliases', 'SELECT a.x AS y, b.z FROM s.a a LEFT JOIN b ON a.k = b.k', ['b', 's.a'], ['y', 'z']],
      ['CTEs', 'WITH c AS (SELECT x FROM t) SELECT c.x FROM c', ['t'], ['x']],
      ['derived tables', 'SELECT d.x FROM (SELECT x FROM t) d', ['t'], ['x']],
      [
        'calls, CASE and CAST',
        "SELECT coalesce(a, 0) p, CASE WHEN b > 0 THEN 'y' END q, cast(c AS decimal(18, 2)) r FROM t",
        ['t'],
        ['p', 'q', 'r'],
      ],
      ['UNION', 'SELECT a FROM t UNION ALL SELECT b FROM u', ['t', 'u'], ['a']],
      ['un-aliased expressions, named by their text', 'SELECT max(a) FROM t', ['t'], ['max(a)']],
    ]
    for (const [name, sql, tables, columns] of cases) {
      it(name, () => {
        const r = take(sql)
        expect(r, 'taken').to.not.equal(undefined)
        expect([...(r?.tables ?? [])].sort()).to.deep.equal(tables)
        expect(r?.columns.map((c) => c.name)).to.deep.equal(columns)
      })
    }
  })

  describe('declines', () => {
    const cases: [string, string][] = [
      ['a subquery in an expression', 'SELECT a FROM t WHERE a IN (SELECT b FROM u)'],
      ['a window function', 'SELECT row_number() OVER (ORDER BY a) FROM t'],
      ['a quoted name', 'SELECT "a" FROM t'],
      ['a reserved word as a name', 'SELECT key FROM t'],
      ['a three-part table name', 'SELECT a FROM d.s.t'],
      ['a Postgres cast', 'SELECT a::int FROM t'],
      ['a backslash in a string', "SELECT 'a\\' FROM t"],
      ['nesting the grammar path flattens', 'SELECT f(f(f(f(f(a))))) FROM t'],
      ['a bracketed select item', 'SELECT (a) FROM t'],
      ['SELECT INTO', 'SELECT a INTO u FROM t'],
      ['trailing text', 'SELECT a FROM t garbage here'],
    ]
    for (const [name, sql] of cases) {
      it(name, () => {
        expect(take(sql)).to.equal(undefined)
      })
    }
  })
})
