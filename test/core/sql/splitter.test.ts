import {expect} from 'chai'

import {dialectInfo} from '../../../src/core/sql/dialects.js'
import {tokenize} from '../../../src/core/sql/lexer.js'
import {splitStatements} from '../../../src/core/sql/splitter.js'

function split(sql: string, dialect = 'ansi'): string[] {
  const info = dialectInfo(dialect)
  return splitStatements(sql, tokenize(sql, info.lex), info.family).map((s) => sql.slice(s.start, s.end))
}

describe('sql splitter', () => {
  const cases: [string, string, string, string[]][] = [
    ['semicolons', 'ansi', 'SELECT 1; SELECT 2;', ['SELECT 1', 'SELECT 2']],
    [
      'leading and trailing blank lines',
      'ansi',
      '\nSELECT * FROM a;\nSELECT * FROM b;\n',
      ['SELECT * FROM a', 'SELECT * FROM b'],
    ],
    ['repeated semicolons', 'ansi', 'SELECT 1;;;', ['SELECT 1']],
    ['a commented-out statement', 'ansi', 'SELECT 1;\n\n-- SELECT 2;', ['SELECT 1']],
    [
      'semicolons in strings, identifiers and comments',
      'ansi',
      `SELECT ';', "a;b" /* ; */ FROM t -- ;\n; SELECT 2`,
      [`SELECT ';', "a;b" /* ; */ FROM t`, 'SELECT 2'],
    ],
    [
      'dollar-quoted bodies',
      'postgres',
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2',
      ['CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql', 'SELECT 2'],
    ],
    [
      'T-SQL GO on its own line',
      'tsql',
      'SELECT 1\nGO\nSELECT 2\nGO 5\nSELECT 3',
      ['SELECT 1', 'SELECT 2', 'SELECT 3'],
    ],
    ['GO inside a name is not a separator', 'tsql', 'SELECT go FROM t; SELECT 2', ['SELECT go FROM t', 'SELECT 2']],
    [
      'Oracle / on its own line',
      'oracle',
      'BEGIN\n  x := 1;\nEND;\n/\nSELECT 1 FROM dual',
      ['BEGIN\n  x := 1;\nEND', 'SELECT 1 FROM dual'],
    ],
    [
      'MySQL DELIMITER blocks',
      'mysql',
      'DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\nSELECT 2;',
      ['CREATE PROCEDURE p() BEGIN SELECT 1; END', 'SELECT 2'],
    ],
    [
      'a procedure body stays whole',
      'tsql',
      'CREATE PROCEDURE p AS\nBEGIN\n  INSERT INTO a SELECT 1;\n  SELECT CASE WHEN 1 = 1 THEN 1 END;\nEND\nSELECT 9',
      [
        'CREATE PROCEDURE p AS\nBEGIN\n  INSERT INTO a SELECT 1;\n  SELECT CASE WHEN 1 = 1 THEN 1 END;\nEND',
        'SELECT 9',
      ],
    ],
    [
      'a PL/SQL declaration section does not end the routine',
      'oracle',
      'CREATE PROCEDURE p AS\nv NUMBER := 0;\nBEGIN\n  IF v = 0 THEN v := 1; END IF;\nEND p;\nSELECT 1',
      ['CREATE PROCEDURE p AS\nv NUMBER := 0;\nBEGIN\n  IF v = 0 THEN v := 1; END IF;\nEND p', 'SELECT 1'],
    ],
    [
      'a T-SQL routine without BEGIN runs to GO',
      'tsql',
      'CREATE PROC p AS\nSELECT 1;\nSELECT 2;\nGO\nSELECT 3',
      ['CREATE PROC p AS\nSELECT 1;\nSELECT 2;', 'SELECT 3'],
    ],
    [
      'a Spark function without a body ends at ;',
      'sparksql',
      "CREATE FUNCTION f AS 'C' USING JAR '/x.jar'; SELECT 1",
      ["CREATE FUNCTION f AS 'C' USING JAR '/x.jar'", 'SELECT 1'],
    ],
    [
      'BEGIN; is a transaction, not a block',
      'postgres',
      'BEGIN; INSERT INTO a SELECT 1; COMMIT;',
      ['BEGIN', 'INSERT INTO a SELECT 1', 'COMMIT'],
    ],
    ['nothing but comments', 'ansi', '-- nothing\n/* here */', []],
  ]
  for (const [name, dialect, sql, want] of cases) {
    it(name, () => {
      expect(split(sql, dialect)).to.deep.equal(want)
    })
  }
})

describe('sql splitter robustness', () => {
  it('an unbalanced bracket does not swallow the following statements', () => {
    expect(split('SELECT (1; SELECT 2; SELECT 3)')).to.deep.equal(['SELECT (1', 'SELECT 2', 'SELECT 3)'])
  })
})
