import {expect} from 'chai'

import {seededRandom} from '../../../src/bench/corpus.js'
import {pairs, lineage} from './helpers.js'

// One dialect per node-sql-parser grammar, each with that grammar tried first.
const DIALECTS = [
  'ansi',
  'postgres',
  'bigquery',
  'hive',
  'athena',
  'db2',
  'flink',
  'mariadb',
  'redshift',
  'snowflake',
  'sqlite',
  'tsql',
  'trino',
]

type Shape = (inner: string, rnd: () => number) => string

// Each wraps an expression over tab2's columns in one more level; every shape keeps col1 as a source.
const SHAPES: Record<string, Shape> = {
  cast: (e) => `CAST(${e} AS string)`,
  castInt: (e) => `CAST(${e} AS int)`,
  call: (e) => `f(${e}, 1)`,
  coalesce: (e) => `COALESCE(${e}, col2)`,
  case: (e) => `CASE WHEN col2 = 1 THEN ${e} ELSE 0 END`,
  bracket: (e) => `(${e} + 1)`,
  scalar: (e) => `(SELECT ${e} FROM tab2)`,
  window: (e) => `sum(${e}) OVER (PARTITION BY col2)`,
  interval: (e) => `date_add(${e}, INTERVAL 1 DAY)`,
  mixed: (e, rnd) => {
    const all = ['cast', 'call', 'coalesce', 'case', 'bracket'] as const
    const pick = all[Math.floor(rnd() * all.length)] ?? 'call'
    return SHAPES[pick]?.(e, rnd) ?? e
  },
}

function nest(shape: Shape, depth: number, rnd: () => number): string {
  let e = 'col1'
  for (let i = 0; i < depth; i++) e = shape(e, rnd)
  return `INSERT INTO tab1 SELECT ${e} AS col1 FROM tab2`
}

function derived(depth: number): string {
  return `INSERT INTO tab1 SELECT col1 FROM ${'(SELECT col1 FROM '.repeat(depth)}tab2${') x'.repeat(depth)}`
}

function exists(depth: number): string {
  return `INSERT INTO tab1 SELECT col1 FROM tab2 WHERE ${'EXISTS (SELECT 1 FROM tab2 WHERE NOT ('.repeat(depth)}col3 = 2${'))'.repeat(depth)}`
}

function condition(depth: number): string {
  return `INSERT INTO tab1 SELECT col1 FROM tab2 WHERE ${'(col2 = 1 AND '.repeat(depth)}col3 = 2${')'.repeat(depth)}`
}

const DEPTHS = [1, 3, 5, 9, 16, 30]

/** Snowflake, Oracle and Db2 give unquoted names in upper case; the shapes here are about nesting, not case. */
const lower = (names: string[]): string[] => names.map((n) => n.toLowerCase())

// The budget is mocha's timeout: a grammar path that explodes takes minutes or dies, so a generous bound
// still tells a bounded parse from an exponential one without timing anything finer.
describe('sql nesting fuzz: every grammar, every nesting shape, bounded cost', function () {
  this.timeout(120_000)

  for (const dialect of DIALECTS) {
    it(`${dialect}: nested expressions keep tables and col1 as a source, or fail with a statement error`, () => {
      const rnd = seededRandom(15)
      for (const [name, shape] of Object.entries(SHAPES)) {
        for (const depth of DEPTHS) {
          const sql = nest(shape, depth, rnd)
          expect(Buffer.byteLength(sql)).to.be.below(64 * 1024)
          const f = lineage(sql, dialect)
          const st = f.statements[0]
          const what = `${dialect} ${name} depth ${depth}`
          expect(f.statements, what).to.have.length(1)
          if (st?.status === 'failed') {
            expect(st.error?.code, what).to.be.a('string')
            continue
          }
          expect(lower(f.targets), what).to.deep.equal(['tab1'])
          expect(lower(f.sources), what).to.deep.equal(['tab2'])
          if (st?.status === 'ok') expect(lower(pairs(f)), what).to.include('tab2.col1 -> tab1.col1')
        }
      }
    })

    it(`${dialect}: nested subqueries and conditions keep their tables`, () => {
      for (const depth of DEPTHS) {
        for (const sql of [derived(depth), condition(depth), exists(depth)]) {
          const f = lineage(sql, dialect)
          const what = `${dialect} depth ${depth}: ${sql.slice(0, 60)}`
          expect(f.statements, what).to.have.length(1)
          if (f.statements[0]?.status === 'failed') {
            expect(f.statements[0].error?.code, what).to.be.a('string')
            continue
          }
          expect(lower(f.targets), what).to.deep.equal(['tab1'])
          expect(lower(f.sources), what).to.deep.equal(['tab2'])
        }
      }
    })
  }

  it('the nine nested CASTs of issue 15 give tab2 -> tab1 and col1 -> col1', () => {
    const sql =
      'INSERT INTO tab1 SELECT cast(cast(cast(cast(cast(cast(cast(cast(cast(col1 AS string) AS string) AS string) ' +
      'AS string) AS string) AS string) AS string) AS string) AS string) AS col1 FROM tab2'
    const f = lineage(sql, 'ansi')
    expect(f.status).to.equal('ok')
    expect(f.sources).to.deep.equal(['tab2'])
    expect(f.targets).to.deep.equal(['tab1'])
    expect(pairs(f)).to.deep.equal(['tab2.col1 -> tab1.col1'])
  })

  it('deep expressions keep every column they reference', () => {
    const expr = 'round(coalesce(sum(cast(a.x * (b.y + (c.z - 1)) AS decimal(18, 2))), 0), 2)'
    const f = lineage(`INSERT INTO t SELECT ${expr} AS v FROM s a JOIN u b ON a.k = b.k JOIN w c ON c.k = a.k`)
    expect(f.sources).to.deep.equal(['s', 'u', 'w'])
    expect(pairs(f)).to.deep.equal(['s.x -> t.v', 'u.y -> t.v', 'w.z -> t.v'])
  })
})
