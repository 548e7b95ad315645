import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {isLineageError} from '../../../src/core/errors.js'
import {collectTableDefinitions, parseSqlFiles, parseVarFlags, readSchemaFile} from '../../../src/core/sql/index.js'
import {useTmpDir} from '../../helpers/tmp.js'

function expectError(fn: () => unknown, code: string, exit: number, message: RegExp): void {
  try {
    fn()
    expect.fail('expected an error')
  } catch (error) {
    if (!isLineageError(error)) throw error
    expect(error).to.include({code, exit})
    expect(error.message).to.match(message)
  }
}

describe('sql parse files (lineage parse core)', () => {
  const tmp = useTmpDir()

  it('parses --var pairs and rejects malformed ones as usage errors', () => {
    expect(parseVarFlags(['a=1', 'b.c=x=y', 'e='])).to.deep.equal({a: '1', 'b.c': 'x=y', e: ''})
    for (const bad of ['nope', '=1', ' =1', '1a=2']) expectError(() => parseVarFlags([bad]), 'E_USAGE', 64, /bad --var/)
  })

  it('reads a schema file, and reports an unreadable or malformed one as a configuration error', () => {
    const good = join(tmp.dir, 'schema.json')
    writeFileSync(good, '{"s.t": ["a"]}')
    expect(readSchemaFile(good)).to.deep.equal({'s.t': ['a']})
    expectError(() => readSchemaFile(join(tmp.dir, 'missing.json')), 'E_CONFIG', 78, /cannot read schema catalogue/)
    writeFileSync(good, '{"s.t": "a"}')
    expectError(() => readSchemaFile(good), 'E_CONFIG', 78, /must be an array/)
  })

  it('collects CREATE TABLE column definitions without parsing the rest', () => {
    const sql =
      'CREATE TABLE s.a (id INT, name TEXT, PRIMARY KEY (id));\nSELECT garbage ((;\nCREATE TABLE IF NOT EXISTS b ("Quoted" INT)'
    expect(collectTableDefinitions(sql, {dialect: 'ansi'})).to.deep.equal({'s.a': ['id', 'name'], b: ['quoted']})
  })

  it('resolves columns from tables created in other files, and reports unreadable files without stopping', () => {
    const ddl = join(tmp.dir, 'ddl.sql')
    const etl = join(tmp.dir, 'etl.sql')
    writeFileSync(ddl, 'CREATE TABLE raw.orders (id INT, amount DECIMAL)')
    writeFileSync(etl, 'INSERT INTO mart.o SELECT * FROM raw.orders')
    const {files} = parseSqlFiles([etl, join(tmp.dir, 'missing.sql'), ddl], {dialect: 'ansi'})
    expect(files.map((f) => f.status)).to.deep.equal(['ok', 'failed', 'ok'])
    expect(files[0]?.columns).to.deep.equal([
      {target: 'mart.o.amount', sources: ['raw.orders.amount']},
      {target: 'mart.o.id', sources: ['raw.orders.id']},
    ])
    expect(files[1]?.errors[0]).to.include({code: 'E_FILE_READ'})
  })

  it('prefers a definition earlier in the same file, then --schema, then other files', () => {
    const ddl = join(tmp.dir, 'ddl.sql')
    const etl = join(tmp.dir, 'etl.sql')
    writeFileSync(ddl, 'CREATE TABLE s (from_other_file INT)')
    writeFileSync(
      etl,
      'INSERT INTO t SELECT * FROM s; CREATE TABLE s (from_same_file INT); INSERT INTO u SELECT * FROM s',
    )
    const {files} = parseSqlFiles([etl, ddl], {dialect: 'ansi', schema: {s: ['from_schema']}})
    expect(files[0]?.statements.flatMap((st) => st.columns.map((c) => c.target))).to.deep.equal([
      't.from_schema',
      'u.from_same_file',
    ])
    const without = parseSqlFiles([etl, ddl], {dialect: 'ansi'})
    expect(without.files[0]?.statements[0]?.columns.map((c) => c.target)).to.deep.equal(['t.from_other_file'])
  })

  it('refuses binary files and files over the size cap per file', () => {
    const bin = join(tmp.dir, 'x.sql')
    writeFileSync(bin, Buffer.from([1, 0, 2]))
    expect(parseSqlFiles([bin], {dialect: 'ansi'}).files[0]?.errors[0]).to.include({code: 'E_NOT_TEXT'})
    writeFileSync(bin, 'SELECT a FROM t')
    expect(parseSqlFiles([bin], {dialect: 'ansi', maxBytes: 5}).files[0]?.errors[0]).to.include({
      code: 'E_FILE_TOO_LARGE',
    })
  })

  it('rejects an unknown dialect before reading anything', () => {
    expectError(
      () => parseSqlFiles(['/nonexistent'], {dialect: 'nope', readFile: () => expect.fail('read')}),
      'E_USAGE',
      64,
      /unknown SQL dialect/,
    )
  })
})
