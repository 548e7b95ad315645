import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {generateCorpus, seededRandom} from '../../../src/bench/corpus.js'
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

/**
 * Random queries over the constructs the fast path reads and the mixes of them that the mysql grammar
 * rejects (operator levels, aggregates' arguments, CASE forms, reserved names), to find a difference that
 * the hand-written cases would not show. Seeded: the same queries on every run.
 */
function generatedQueries(seed: number, count: number): string[] {
  const rng = seededRandom(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T
  const cols = ['a', 'b', 't.a', 't.b', 'u.c', 'x.key', 'status', 'v.d', 'q.z', 'A', 'T.B', 'name', 'value', 'x.date']
  const odd = ['key', 'date', 'limit', "'x\\y'", '"dq"', '`bq`', 'a::int', '(SELECT max(a) FROM w)']
  const fns = ['coalesce', 'upper', 'max', 'sum', 'count', 'nullif', 'if', 'round', 'now', 'std']
  const ops = ['+', '-', '*', '/', '%', '||', '=', '<>', '<', '>=', 'AND', 'OR']
  const types = ['int', 'decimal(10, 2)', 'varchar(20)', 'date', 'string', 'signed']
  const expr = (d: number): string => {
    const r = rng()
    if (d > 2 || r < 0.4) return rng() < 0.04 ? pick(odd) : pick([...cols, '1', '2.5', "'s'", 'NULL', 'TRUE'])
    const e = (): string => expr(d + 1)
    if (r < 0.5) return `${pick(fns)}(${Array.from({length: Math.floor(rng() * 3)}, e).join(', ')})`
    if (r < 0.65) return `${e()} ${pick(ops)} ${e()}`
    if (r < 0.7) return `CASE WHEN ${e()} THEN ${e()}${rng() < 0.5 ? ` ELSE ${e()}` : ''} END`
    if (r < 0.73) return `CASE ${e()} WHEN 1 THEN ${e()} END`
    if (r < 0.77) return `cast(${e()} AS ${pick(types)})`
    if (r < 0.8) return `(${e()})`
    if (r < 0.83) return `${e()} IS ${rng() < 0.5 ? 'NOT ' : ''}NULL`
    if (r < 0.86) return `${e()} ${rng() < 0.3 ? 'NOT ' : ''}IN (${e()}, ${e()})`
    if (r < 0.89) return `${e()} BETWEEN ${e()} AND ${e()}`
    if (r < 0.91) return `count(${pick(['*', 'DISTINCT a', 'a'])})`
    if (r < 0.94) return `NOT ${e()}`
    if (r < 0.97) return `${e()} LIKE 'x%'`
    return `-${e()}`
  }
  const item = (): string => {
    const r = rng()
    if (r < 0.08) return '*'
    if (r < 0.14) return `${pick(['t', 'u', 'q', 'c1'])}.*`
    const a = rng()
    return a < 0.4 ? `${expr(0)} AS ${pick(['o1', 'a', 'total'])}` : a < 0.55 ? `${expr(0)} o3` : expr(0)
  }
  const table = (d: number): string =>
    rng() < 0.12 && d < 2
      ? `(${query(d + 1)}) ${pick(['q', 'AS q'])}`
      : `${pick(['t', 'u', 's.v', 'w', 'c1', 'T'])}${pick(['', ' t', ' u', ' AS x', ' q', ' v'])}`
  const from = (d: number): string => {
    let s = `FROM ${table(d)}`
    for (let n = Math.floor(rng() * 3); n > 0; n--) {
      const join = pick(['JOIN', 'LEFT JOIN', 'INNER JOIN', 'RIGHT OUTER JOIN', 'CROSS JOIN', ','])
      const on = join === 'CROSS JOIN' || join === ',' ? '' : rng() < 0.8 ? ` ON ${expr(1)}` : ' USING (a)'
      s += join === ',' ? `, ${table(d)}` : ` ${join} ${table(d)}${on}`
    }
    return s
  }
  const select = (d: number): string => {
    let s = `SELECT ${rng() < 0.1 ? 'DISTINCT ' : ''}${Array.from({length: 1 + Math.floor(rng() * 4)}, item).join(', ')}`
    if (rng() < 0.93) s += ` ${from(d)}`
    if (rng() < 0.4) s += ` WHERE ${expr(0)}`
    if (rng() < 0.2) s += ` GROUP BY ${expr(1)}, 1`
    if (rng() < 0.1) s += ` HAVING ${expr(1)}`
    return s
  }
  const query = (d: number): string => {
    let s = rng() < 0.25 && d < 2 ? `WITH c1 AS (${query(d + 1)}) ` : ''
    s += select(d)
    if (rng() < 0.15) s += ` UNION ${pick(['', 'ALL '])}${select(d)}`
    if (rng() < 0.15) s += ` ORDER BY ${expr(1)} ${pick(['', 'ASC', 'DESC'])}`
    if (rng() < 0.1) s += ` LIMIT ${pick(['10', '1, 2', '5 OFFSET 2'])}`
    return s
  }
  return Array.from({length: count}, () => {
    const q = query(0)
    return pick([q, `INSERT INTO out ${q}`, `CREATE TABLE out AS ${q}`, `INSERT INTO out (p, q) ${q}`])
  })
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

  it('gives the grammar path result on generated queries', () => {
    const queries = generatedQueries(7, 300)
    const taken = sameBothWays(
      queries.map((sql, i) => ({
        id: `generated #${i}: ${sql}`,
        sql,
        options: {dialect: i % 2 ? 'ansi' : 'mysql', ...(i % 3 ? {} : {schema: {t: ['a', 'b'], u: ['c', 'a']}})},
      })),
    )
    expect(taken).to.be.at.least(50)
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
