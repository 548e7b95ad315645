import {expect} from 'chai'

import {dialectInfo} from '../../../src/core/sql/dialects.js'
import {blank, applyEdits} from '../../../src/core/sql/edits.js'
import {identText, rememberBlanked, tokenize} from '../../../src/core/sql/lexer.js'

const texts = (sql: string, dialect = 'ansi'): string[] =>
  tokenize(sql, dialectInfo(dialect).lex).map((t) => sql.slice(t.start, t.end))

describe('sql lexer', () => {
  const cases: [string, string, string, string[]][] = [
    ['strings hide semicolons and comment markers', 'ansi', "SELECT 'a;b--c' x", ['SELECT', "'a;b--c'", 'x']],
    ['doubled quotes stay inside the string', 'ansi', "'it''s';", ["'it''s'", ';']],
    ['line comments are dropped', 'ansi', 'a -- b; c\nd', ['a', 'd']],
    ['block comments are dropped', 'ansi', 'a /* ; */ b', ['a', 'b']],
    ['postgres block comments nest', 'postgres', 'a /* x /* y */ ; */ b', ['a', 'b']],
    ['dollar quoting', 'postgres', 'AS $fn$ SELECT 1; $fn$ x', ['AS', '$fn$ SELECT 1; $fn$', 'x']],
    ['${var} is not a dollar quote', 'postgres', 'a ${v} b', ['a', '$', '{', 'v', '}', 'b']],
    ['mysql backslash escapes', 'mysql', "'a\\';b' c", ["'a\\';b'", 'c']],
    ['mysql # comments', 'mysql', 'a # b; c\nd', ['a', 'd']],
    ['t-sql temp tables and brackets', 'tsql', 'FROM #t JOIN [a;b]', ['FROM', '#t', 'JOIN', '[a;b]']],
    ['postgres casts and array brackets', 'postgres', 'x::int[1]', ['x', '::', 'int', '[', '1', ']']],
    ['quoted identifiers', 'ansi', '"a;b".`c`', ['"a;b"', '.', '`c`']],
    ['numbers', 'ansi', '1.5e3 .5', ['1.5e3', '.5']],
    ['unterminated string runs to the end', 'ansi', "a 'b; c", ['a', "'b; c"]],
  ]
  for (const [name, dialect, sql, want] of cases) {
    it(name, () => {
      expect(texts(sql, dialect)).to.deep.equal(want)
    })
  }

  it('marks tokens that start a line', () => {
    const toks = tokenize('a b\n  c /* x\n */ d')
    expect(toks.map((t) => t.nl)).to.deep.equal([true, false, true, true])
  })

  it('unquotes identifiers', () => {
    const sql = '"a""b" `c``d` [e]'
    const toks = tokenize(sql, dialectInfo('tsql').lex)
    expect(toks.map((t) => identText(sql, t))).to.deep.equal(['a"b', 'c`d', 'e'])
  })

  it('gives the same tokens for the same text again without lexing it again', () => {
    const sql = 'SELECT a FROM t'
    expect(tokenize(sql)).to.equal(tokenize(sql))
    // Other lexing options are another reading of the same text.
    expect(tokenize(sql, dialectInfo('mysql').lex)).to.not.equal(tokenize(sql))
  })

  it('gives a blanked copy the tokens that lexing it would give', () => {
    // In the text SELECT does not start a line; in the blanked copy, where `INSERT INTO t (x)` is gone, it does.
    const sql = 'WITH c AS (SELECT 1 x) -- head\nINSERT INTO t (x) /* q */ SELECT x\nFROM c ON CONFLICT DO NOTHING'
    const lex = dialectInfo('postgres').lex
    const tokens = tokenize(sql, lex)
    const insert = tokens.findIndex((t) => t.up === 'INSERT')
    const from = tokens.findIndex((t, i) => i > insert && t.up === 'SELECT')
    const to = tokens.findIndex((t) => t.up === 'ON')
    const cut = (a: number, b: number): {start: number; end: number} => ({
      start: tokens[a]?.start ?? 0,
      end: tokens[b]?.start ?? sql.length,
    })
    const head = cut(insert, from)
    const tail = cut(to, tokens.length)
    const blanked = applyEdits(sql, [blank(sql, head.start, head.end), blank(sql, tail.start, tail.end)]).text
    rememberBlanked(blanked, lex, tokens, [
      [0, insert],
      [from, to],
    ])
    // A copy of the options misses the cache: a real lexing of the blanked text.
    expect(tokenize(blanked, lex)).to.deep.equal(tokenize(blanked, {...lex}))
    expect(
      tokenize(blanked, lex)
        .map((t) => blanked.slice(t.start, t.end))
        .join(' '),
    ).to.equal('WITH c AS ( SELECT 1 x ) SELECT x FROM c')
    expect(tokenize(blanked, lex).map((t) => t.nl)).to.deep.equal([
      true,
      ...Array<boolean>(7).fill(false),
      true,
      false,
      true,
      false,
    ])
  })
})
