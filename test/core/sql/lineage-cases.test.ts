import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {extractLineage, type FileLineage} from '../../../src/core/sql/index.js'

/**
 * The sqllineage-derived regression corpus (test/fixtures/lineage-cases, see its README). Each run prints
 * the score; a case failing that is not in known-failures.json fails the test, and so does a listed case
 * that now passes (update the list and raise the floor).
 */
const dir = new URL('../../fixtures/lineage-cases/', import.meta.url)
const readJson = (name: string): unknown => JSON.parse(readFileSync(new URL(name, dir), 'utf8'))

interface TableCase {
  id: string
  dialect: string
  sql: string
  sources: string[]
  targets: string[]
  /** Quoted names whose case matters: they must come out exactly so. */
  case_sensitive_sources?: string[]
  case_sensitive_targets?: string[]
}
interface ColumnPair {
  source: {column: string; table: string | null}
  target: {column: string; table: string}
}
interface ColumnCase {
  id: string
  dialect: string
  sql: string
  lineage: ColumnPair[]
  metadata?: Record<string, string[]>
}
interface KnownFailures {
  tables: Record<string, string>
  columns: Record<string, string>
}

const known = readJson('known-failures.json') as KnownFailures
const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  JSON.stringify([...new Set(a)].sort()) === JSON.stringify([...new Set(b)].sort())
/**
 * The corpus writes every name in lower case (its README), while lineage gives names the case their dialect
 * gives them (Snowflake and Oracle fold to upper case, quoted names keep theirs): compare in lower case, and
 * check the names the corpus lists as case-sensitive exactly.
 */
const lower = (names: readonly string[]): string[] => names.map((n) => n.toLowerCase())
const includesAll = (got: readonly string[], want: readonly string[] = []): boolean =>
  want.every((n) => got.includes(n))
/** A parse failure never counts, even where nothing is expected. */
const parsed = (f: FileLineage): boolean => f.status === 'ok'

function tableCasePasses(c: TableCase): boolean {
  const f = extractLineage(c.sql, {path: c.id, dialect: c.dialect})
  return (
    parsed(f) &&
    sameSet(lower(f.sources), c.sources) &&
    sameSet(lower(f.targets), c.targets) &&
    includesAll(f.sources, c.case_sensitive_sources) &&
    includesAll(f.targets, c.case_sensitive_targets)
  )
}

function columnCasePasses(c: ColumnCase): boolean {
  const f = extractLineage(c.sql, {path: c.id, dialect: c.dialect, ...(c.metadata ? {schema: c.metadata} : {})})
  const want = c.lineage.map(
    (p) => `${p.source.table ?? '?'}.${p.source.column} -> ${p.target.table}.${p.target.column}`,
  )
  const got = (f.columns ?? []).flatMap((col) => col.sources.map((s) => `${s} -> ${col.target}`.toLowerCase()))
  return parsed(f) && sameSet(want, got)
}

function score<C extends {id: string}>(cases: C[], passes: (c: C) => boolean, knownFailures: Record<string, string>) {
  const failed = cases.filter((c) => !passes(c)).map((c) => c.id)
  const unexpected = failed.filter((id) => !(id in knownFailures))
  const fixed = Object.keys(knownFailures).filter((id) => !failed.includes(id))
  return {passed: cases.length - failed.length, total: cases.length, unexpected, fixed}
}

function report(label: string, s: ReturnType<typeof score>): void {
  console.log(`      ${label}: ${s.passed}/${s.total} cases (${((100 * s.passed) / s.total).toFixed(1)}%)`)
}

describe('lineage cases (sqllineage regression corpus)', () => {
  it('tables.json: file-level sources and targets, floor 139/139', () => {
    const s = score(readJson('tables.json') as TableCase[], tableCasePasses, known.tables)
    report('tables.json', s)
    expect(s.unexpected, 'new failures (fix them, or list them with a reason in known-failures.json)').to.deep.equal([])
    expect(s.fixed, 'listed as known failures but passing now: remove them from known-failures.json').to.deep.equal([])
    expect(s.passed / s.total).to.be.at.least(0.9)
    expect(s.passed).to.be.at.least(139)
  })

  it('columns.json: file-level column lineage, floor 93/94', () => {
    const s = score(readJson('columns.json') as ColumnCase[], columnCasePasses, known.columns)
    report('columns.json', s)
    expect(s.unexpected, 'new failures (fix them, or list them with a reason in known-failures.json)').to.deep.equal([])
    expect(s.fixed, 'listed as known failures but passing now: remove them from known-failures.json').to.deep.equal([])
    expect(s.passed / s.total).to.be.at.least(0.75)
    expect(s.passed).to.be.at.least(93)
  })
})
