import {expect} from 'chai'

import {isLineageError} from '../../../src/core/errors.js'
import {extractLineage, extractLineageFromBuffer} from '../../../src/core/sql/index.js'
import {seededRandom} from '../../../src/bench/corpus.js'
import {lineage} from './helpers.js'

const opts = {path: 'x.sql', dialect: 'ansi'}

describe('sql extraction error paths', () => {
  it('reports a failing statement at its file line and column, with a snippet, and keeps the others', () => {
    const sql =
      'INSERT INTO a SELECT * FROM b;\n\nSELECT x FROM c;\n  SELEC broken stuff;\nINSERT INTO d SELECT * FROM e'
    const f = extractLineage(sql, opts)
    expect(f.status).to.equal('partial')
    expect(f.sources).to.deep.equal(['b', 'c', 'e'])
    expect(f.targets).to.deep.equal(['a', 'd'])
    expect(f.errors).to.have.length(1)
    expect(f.errors[0]).to.deep.include({code: 'E_PARSE', line: 4, column: 9, snippet: '  SELEC broken stuff;'})
    expect(f.errors[0]?.message).to.match(/syntax error: unexpected "broken"/)
    expect(f.statements.map((s) => [s.line, s.column, s.status])).to.deep.equal([
      [1, 1, 'ok'],
      [3, 1, 'ok'],
      [4, 3, 'failed'],
      [5, 1, 'ok'],
    ])
  })

  it('a file where nothing parses is failed, never ok with no lineage', () => {
    const f = extractLineage('this is not sql at all; neither is this', opts)
    expect(f.status).to.equal('failed')
    expect(f.errors.map((e) => e.code)).to.deep.equal(['E_PARSE', 'E_PARSE'])
  })

  it('maps error positions through rendered templates', () => {
    const f = extractLineage("SELECT ${cols} FROM t WHERE x = 'ab' AND y = ) ;", {
      ...opts,
      vars: {cols: 'a_rather_long_list, of_columns'},
    })
    const st = f.statements[0]
    expect(st?.warnings?.[0]).to.match(/\(1:46: syntax error/)
  })

  it('refuses binary content', () => {
    const f = extractLineageFromBuffer(Buffer.from([0x53, 0x45, 0x00, 0x01, 0x02]), opts)
    expect(f).to.deep.include({status: 'failed', statements: []})
    expect(f.errors[0]).to.include({code: 'E_NOT_TEXT'})
    expect(f.errors[0]?.message).to.match(/binary content \(NUL byte at offset 2\)/)
  })

  it('refuses content that is not UTF-8, saying where', () => {
    const latin1 = Buffer.from("SELECT 'caf\xe9' FROM t", 'latin1')
    const f = extractLineageFromBuffer(latin1, opts)
    expect(f.errors[0]).to.include({code: 'E_NOT_TEXT'})
    expect(f.errors[0]?.message).to.match(/not valid UTF-8 \(byte 0xe9 at offset 11, line 1\)/)
  })

  it('refuses UTF-16', () => {
    const f = extractLineageFromBuffer(Buffer.from('\ufeffSELECT 1', 'utf16le'), opts)
    expect(f.errors[0]?.message).to.match(/UTF-16/)
  })

  it('strips a UTF-8 byte order mark', () => {
    const f = extractLineageFromBuffer(Buffer.from('\ufeffSELECT a FROM t', 'utf8'), opts)
    expect(f).to.deep.include({status: 'ok', sources: ['t']})
    expect(f.statements[0]).to.include({line: 1, column: 1})
  })

  it('refuses a file over the size cap, from text or bytes', () => {
    const sql = 'SELECT a FROM t'
    for (const f of [
      extractLineage(sql, {...opts, maxBytes: 10}),
      extractLineageFromBuffer(Buffer.from(sql), {...opts, maxBytes: 10}),
    ]) {
      expect(f.status).to.equal('failed')
      expect(f.errors[0]).to.include({code: 'E_FILE_TOO_LARGE'})
      expect(f.errors[0]?.message).to.contain('15 bytes, over the 10-byte limit')
    }
    expect(extractLineage(sql, {...opts, maxBytes: 15}).status).to.equal('ok')
  })

  it('skips the statements after the soft deadline with E_PARSE_TIMEOUT', () => {
    const sql = Array.from({length: 30}, (_, i) => `INSERT INTO t${i} SELECT * FROM s${i}`).join(';\n')
    const f = extractLineage(sql, {...opts, deadlineMs: 0})
    expect(f.status).to.equal('failed')
    expect(f.statements.every((s) => s.status === 'skipped')).to.equal(true)
    expect(f.errors[1]).to.include({code: 'E_PARSE_TIMEOUT', line: 2, column: 1})
    expect(f.sources).to.deep.equal([])
  })

  it('tells onStatement each statement it starts, then null; a span met again in overBudget is token-scanned', () => {
    const sql = 'INSERT INTO a SELECT x FROM b;\nINSERT INTO c SELECT y FROM d JOIN e ON d.k = e.k;\nDROP TABLE f'
    const spans: ({start: number; end: number} | null)[] = []
    const first = extractLineage(sql, {...opts, onStatement: (s) => spans.push(s)})
    expect(first.status).to.equal('ok')
    expect(spans.map((s) => (s ? sql.slice(s.start, s.end) : null))).to.deep.equal([
      'INSERT INTO a SELECT x FROM b',
      'INSERT INTO c SELECT y FROM d JOIN e ON d.k = e.k',
      'DROP TABLE f',
      null,
    ])
    const stopped = spans[1]
    if (!stopped) throw new Error('no span')
    const again: unknown[] = []
    const f = extractLineage(sql, {
      ...opts,
      overBudget: {spans: [stopped], budgetMs: 2000},
      onStatement: (s) => again.push(s),
    })
    // Not handed to a grammar again, so not reported as started either.
    expect(again).to.have.length(3)
    expect(f.status).to.equal('degraded')
    const st = f.statements[1]
    expect(st).to.deep.include({kind: 'INSERT', line: 2, status: 'fallback', grammar: 'fallback', columns: []})
    expect([st?.sources, st?.targets]).to.deep.equal([['d', 'e'], ['c']])
    expect(st?.error).to.include({code: 'E_PARSE_BUDGET', line: 2, column: 1})
    expect(st?.error?.message).to.include('statement at line 2').and.include('budget of 2 s')
    expect(f.errors.map((e) => e.code)).to.deep.equal(['E_PARSE_BUDGET'])
    expect(f.statements.map((x) => x.status)).to.deep.equal(['ok', 'fallback', 'ok'])
    expect(f.incomplete).to.equal(undefined)
    // Its token-scanned names are qualified like every other statement's.
    const qualified = extractLineage(sql, {
      ...opts,
      defaultSchema: 'sales',
      overBudget: {spans: [stopped], budgetMs: 2000},
    })
    expect([qualified.statements[1]?.sources, qualified.statements[1]?.targets]).to.deep.equal([
      ['sales.d', 'sales.e'],
      ['sales.c'],
    ])
  })

  it('marks a lineage cut short by the deadline incomplete, and only that one', () => {
    const sql = Array.from({length: 30}, (_, i) => `INSERT INTO t${i} SELECT * FROM s${i}`).join(';\n')
    expect(extractLineage(sql, {...opts, deadlineMs: 0}).incomplete).to.equal(true)
    const within = extractLineage(sql, {...opts, deadlineMs: 3_600_000})
    expect(within.status).to.equal('ok')
    expect(within).not.to.have.property('incomplete')
    // A statement that fails for its SQL is final whatever the budget.
    const bad = extractLineage('INSERT INTO a SELECT * FROM b;\n  SELEC broken stuff;', opts)
    expect(bad.status).to.equal('partial')
    expect(bad).not.to.have.property('incomplete')
  })

  it('keeps what was parsed before the deadline', () => {
    const sql = Array.from(
      {length: 400},
      (_, i) => `INSERT INTO t${i} SELECT a, b, c FROM s${i} JOIN u${i} ON s${i}.id = u${i}.id`,
    ).join(';\n')
    // Postgres: these statements go to its grammar (the token fast path reads them in well under a deadline
    // under ansi), about 1.5 ms each here, so 400 take several times the deadline even on a fast machine, and
    // the first ones finish within it even on a loaded one.
    const pg = {...opts, dialect: 'postgres'}
    extractLineage(sql, pg) // the first run in a process compiles the extractor: not what is measured
    const f = extractLineage(sql, {...pg, deadlineMs: 100})
    const skipped = f.statements.filter((s) => s.status === 'skipped').length
    expect(skipped).to.be.greaterThan(0)
    expect(skipped).to.be.lessThan(400)
    expect(f.status).to.equal('partial')
  })

  it('skips the exponential grammars on deeply nested brackets, with a warning', () => {
    let e = 'a'
    for (let i = 0; i < 9; i++) e = `(SELECT ${e} FROM t${i} WHERE (x = 1 OR y = 2))`
    const t0 = performance.now()
    const f = lineage(`SELECT ${e} AS v FROM base`, 'postgres')
    expect(performance.now() - t0).to.be.lessThan(3000)
    expect(f.statements[0]?.warnings?.[0]).to.match(/^postgresql grammar skipped: bracket nesting depth \d+ exceeds 7/)
    expect(f.sources).to.include.members(['base', 't0', 't8'])
  })

  it('falls back to the token scan when every grammar is skipped as too slow', () => {
    let e = 'a'
    for (let i = 0; i < 16; i++) e = `(SELECT ${e} FROM t${i})`
    const st = lineage(`INSERT INTO out SELECT ${e} AS v FROM base`).statements[0]
    expect(st).to.include({status: 'fallback', grammar: 'fallback'})
    expect(st?.targets).to.deep.equal(['out'])
    expect(st?.sources).to.include.members(['base', 't0', 't15'])
  })

  it('marks a file degraded when a statement lost its column lineage to the token scan', () => {
    let e = 'a'
    for (let i = 0; i < 16; i++) e = `(SELECT ${e} FROM t${i})`
    const f = lineage(`INSERT INTO out SELECT ${e} AS v FROM base;\nINSERT INTO out2 SELECT a FROM base`)
    expect(f.statements.map((s) => s.status)).to.deep.equal(['fallback', 'ok'])
    expect(f.status).to.equal('degraded')
    expect(f.targets).to.deep.equal(['out', 'out2'])
    // A token-scan statement without data movement (a bare SELECT) loses nothing: the file stays ok.
    expect(lineage('SELECT * FROM a WHERE b = (').status).to.equal('ok')
  })

  it('handles a chain of thousands of statements without running out of stack', () => {
    const sql = Array.from({length: 5000}, (_, i) => `CREATE TABLE t${i} AS SELECT a FROM t${i + 1}`).join(';\n')
    const f = extractLineage(sql, opts)
    expect(f).to.deep.include({status: 'ok', sources: ['t5000'], targets: ['t0']})
    expect(f.columns).to.deep.equal([{target: 't0.a', sources: ['t5000.a']}])
  })

  it('hands an expression too deep to analyse to the token scan', () => {
    // postgres: the grammars only (the fast path, which reads such a sum in a loop, is not used there).
    const sum = Array.from({length: 20000}, (_, i) => `c${i}`).join(' + ')
    const st = extractLineage(`INSERT INTO t SELECT ${sum} AS total FROM s`, {...opts, dialect: 'postgres'})
      .statements[0]
    expect(st).to.deep.include({status: 'fallback', sources: ['s'], targets: ['t']})
  })

  it('keeps the columns of an expression too long for the grammars where the fast path reads it', () => {
    const sum = Array.from({length: 20000}, (_, i) => `c${i}`).join(' + ')
    const st = extractLineage(`INSERT INTO t SELECT ${sum} AS total FROM s`, opts).statements[0]
    expect(st).to.deep.include({status: 'ok', sources: ['s'], targets: ['t']})
    expect(st?.columns.map((c) => [c.target, c.sources.length])).to.deep.equal([['t.total', 20000]])
  })

  it('reports an empty file as ok with a warning, not as lineage', () => {
    const f = extractLineage('-- nothing here\n', opts)
    expect(f).to.deep.include({status: 'ok', statements: [], warnings: ['no SQL statements found']})
  })

  it('throws a usage error (exit 64) for an unknown dialect', () => {
    try {
      extractLineage('SELECT 1', {...opts, dialect: 'cobol'})
      expect.fail('expected a usage error')
    } catch (error) {
      expect(isLineageError(error) && error.exit).to.equal(64)
    }
  })

  it('never throws on arbitrary input', () => {
    const rng = seededRandom(7)
    const alphabet =
      'SELECT FROM WHERE ( ) ; \' " ` -- /* */ $$ BEGIN END CASE GO \n , . * = a b 1 ${x} {{y}} :z MERGE INTO USING'
    const words = alphabet.split(' ')
    for (let i = 0; i < 200; i++) {
      const sql = Array.from({length: 40}, () => words[Math.floor(rng() * words.length)]).join(' ')
      for (const dialect of ['ansi', 'tsql', 'postgres', 'mysql', 'oracle']) {
        const f = extractLineage(sql, {...opts, dialect})
        expect(['ok', 'degraded', 'partial', 'failed']).to.include(f.status)
      }
    }
  })
})
