import {expect} from 'chai'

import {dialectInfo} from '../../../src/core/sql/dialects.js'
import {identText, tokenize} from '../../../src/core/sql/lexer.js'

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
})
