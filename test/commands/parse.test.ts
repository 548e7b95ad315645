import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import type {FileLineage} from '../../src/core/index.js'
import {FILE_WITH_SLOW_STATEMENT} from '../helpers/slow-sql.js'
import {tmpDir, withEnv} from '../helpers/tmp.js'

const fixture = (name: string): string => new URL(`../fixtures/sql/${name}`, import.meta.url).pathname

interface Output {
  files: FileLineage[]
}

describe('parse', () => {
  it('prints the lineage of a file as JSON and exits 0 when it parsed completely', async () => {
    const {stdout, error} = await runCommand(['parse', fixture('etl.sql'), '--json'])
    expect(error).to.equal(undefined)
    const [file] = (JSON.parse(stdout) as Output).files
    expect(file).to.deep.include({
      path: fixture('etl.sql'),
      dialect: 'ansi',
      status: 'ok',
      sources: ['raw.orders'],
      targets: ['mart.customer_totals'],
      errors: [],
    })
    expect(file?.statements.map((s) => [s.index, s.kind, s.line, s.sources, s.targets, s.error])).to.deep.equal([
      [0, 'CREATE TABLE AS', 2, ['raw.orders'], ['staging.orders_tmp'], null],
      [1, 'INSERT', 7, ['staging.orders_tmp'], ['mart.customer_totals'], null],
      [2, 'DROP TABLE', 12, [], [], null],
    ])
    expect(file?.statements[1]?.columns).to.deep.equal([
      {target: 'mart.customer_totals.customer_id', sources: ['staging.orders_tmp.customer_id']},
      {target: 'mart.customer_totals.total', sources: ['staging.orders_tmp.amount']},
    ])
  })

  it('qualifies bare table names with --default-schema, or LINEAGE_DEFAULT_SCHEMA', async () => {
    const {dir, remove} = tmpDir()
    try {
      const file = join(dir, 'bare.sql')
      writeFileSync(file, 'INSERT INTO t SELECT o.a FROM orders o JOIN sales.orders p ON o.id = p.id\n')
      const flag = await runCommand(['parse', file, '--default-schema', 'sales', '--json'])
      expect(flag.error).to.equal(undefined)
      const [f] = (JSON.parse(flag.stdout) as Output).files
      expect([f?.sources, f?.targets]).to.deep.equal([['sales.orders'], ['sales.t']])
      const env = await withEnv({LINEAGE_DEFAULT_SCHEMA: 'sales'}, () => runCommand(['parse', file, '--json']))
      const [g] = (JSON.parse(env.stdout) as Output).files
      expect([g?.sources, g?.targets]).to.deep.equal([['sales.orders'], ['sales.t']])
    } finally {
      remove()
    }
  })

  it("takes each file's defaults from the nearest .lineage.json over the flags, and refuses an invalid one (78)", async () => {
    const {dir, remove} = tmpDir()
    try {
      mkdirSync(join(dir, '.git'))
      mkdirSync(join(dir, 'sales'))
      writeFileSync(join(dir, '.lineage.json'), JSON.stringify({defaultDatabase: 'dw'}))
      writeFileSync(join(dir, 'sales', '.lineage.json'), JSON.stringify({defaultSchema: 'sales'}))
      const sql = 'INSERT INTO t SELECT a FROM orders\n'
      writeFileSync(join(dir, 'top.sql'), sql)
      writeFileSync(join(dir, 'sales', 'in-sales.sql'), sql)
      const res = await runCommand([
        'parse',
        join(dir, 'top.sql'),
        join(dir, 'sales', 'in-sales.sql'),
        '--default-schema',
        'core',
        '--json',
      ])
      expect(res.error).to.equal(undefined)
      const files = (JSON.parse(res.stdout) as Output).files
      expect(files.map((f) => [f.sources, f.targets])).to.deep.equal([
        [['dw.core.orders'], ['dw.core.t']],
        [['dw.sales.orders'], ['dw.sales.t']],
      ])
      writeFileSync(join(dir, 'sales', '.lineage.json'), '{"defaultSchema": "sales", "schema": "x"}')
      const bad = await runCommand(['parse', join(dir, 'sales', 'in-sales.sql'), '--json'])
      expect(bad.error?.oclif?.exit).to.equal(78)
      const why = (JSON.parse(bad.stdout) as {error: {code: string; message: string}}).error
      expect(why.code).to.equal('E_CONFIG')
      expect(why.message).to.include(`${join(dir, 'sales', '.lineage.json')} ignored: unknown key "schema"`)
    } finally {
      remove()
    }
  })

  it('exits 1 for a partial file and still prints the result, errors with file:line:col', async () => {
    const {stdout, error} = await runCommand(['parse', fixture('broken.sql'), '--json'])
    expect(error?.oclif?.exit).to.equal(1)
    const [file] = (JSON.parse(stdout) as Output).files
    expect(file?.status).to.equal('partial')
    expect(file?.sources).to.deep.equal(['raw.b'])
    expect(file?.errors.map((e) => [e.code, e.line])).to.deep.equal([
      ['E_PARSE', 2],
      ['E_TEMPLATE', 3],
    ])
  })

  it('substitutes --var values', async () => {
    const {stdout, error} = await runCommand(['parse', fixture('broken.sql'), '--var', 'source_table=raw.d', '--json'])
    expect(error?.oclif?.exit).to.equal(1)
    expect((JSON.parse(stdout) as Output).files[0]?.sources).to.deep.equal(['raw.b', 'raw.d'])
  })

  it('prints a readable table without colour codes when stdout is not a terminal', async () => {
    const {stdout, stderr, error} = await runCommand(['parse', fixture('etl.sql'), fixture('broken.sql')])
    expect(error?.oclif?.exit).to.equal(1)
    expect(stdout).to.contain(`${fixture('etl.sql')} (ansi): ok, 3 statements`)
    expect(stdout).to.match(/│ # +│ line +│ kind +│ reads +│ writes +│ columns +│ status +│/)
    expect(stdout).to.match(/│ 2 +│ 7 +│ INSERT +│ staging.orders_tmp +│ mart.customer_totals +│ 2 +│ ok \(mysql\) +│/)
    expect(stdout).to.contain(`${fixture('broken.sql')}:2:7: E_PARSE: syntax error`)
    expect(stdout).to.contain('    SELEC x + y;')
    expect(stdout).not.to.contain('\u001b[')
    expect(stderr).to.contain('unrendered template placeholder "${source_table}"')
  })

  it('uses the --schema catalogue to expand SELECT *', async () => {
    const {stdout, error} = await runCommand([
      'parse',
      fixture('star.sql'),
      '--schema',
      fixture('schema.json'),
      '--json',
    ])
    expect(error).to.equal(undefined)
    expect((JSON.parse(stdout) as Output).files[0]?.columns?.map((c) => c.target)).to.deep.equal([
      'mart.snapshot.account_id',
      'mart.snapshot.balance',
    ])
  })

  it('reports an unreadable file in its own entry and parses the others', async () => {
    const {stdout, error} = await runCommand(['parse', '/nonexistent/x.sql', fixture('etl.sql'), '--json'])
    expect(error?.oclif?.exit).to.equal(1)
    const files = (JSON.parse(stdout) as Output).files
    expect(files.map((f) => f.status)).to.deep.equal(['failed', 'ok'])
    expect(files[0]?.errors[0]).to.include({code: 'E_FILE_READ'})
  })

  it('stops a statement over --statement-budget, keeps the rest of the file and exits 1 (degraded)', async function () {
    this.timeout(60_000)
    const {dir, remove} = tmpDir()
    try {
      const file = join(dir, 'slow.sql')
      writeFileSync(file, FILE_WITH_SLOW_STATEMENT)
      const {stdout, error} = await runCommand(['parse', file, '--statement-budget', '1', '--json'])
      expect(error?.oclif?.exit).to.equal(1)
      const [f] = (JSON.parse(stdout) as Output).files
      expect(f?.status).to.equal('degraded')
      expect(f?.statements.map((s) => [s.status, s.sources, s.targets])).to.deep.equal([
        ['ok', ['s_before'], ['t_before']],
        ['fallback', ['tab2'], ['tab1']],
        ['ok', ['s_after'], ['t_after']],
      ])
      expect(f?.errors).to.have.length(1)
      expect(f?.errors[0]).to.include({code: 'E_PARSE_BUDGET', line: 2})
      expect(f?.errors[0]?.message).to.include('line 2').and.include('budget of 1 s')
    } finally {
      remove()
    }
  })

  it('fails a file still parsing at --timeout with E_PARSE_TIMEOUT and parses the next one', async function () {
    this.timeout(60_000)
    const {dir, remove} = tmpDir()
    try {
      const file = join(dir, 'slow.sql')
      writeFileSync(file, FILE_WITH_SLOW_STATEMENT)
      const argv = ['parse', file, fixture('etl.sql'), '--timeout', '1', '--statement-budget', '600', '--json']
      const {stdout, error} = await runCommand(argv)
      expect(error?.oclif?.exit).to.equal(1)
      const files = (JSON.parse(stdout) as Output).files
      expect(files.map((f) => f.status)).to.deep.equal(['failed', 'ok'])
      expect(files[0]?.errors[0]).to.include({code: 'E_PARSE_TIMEOUT'})
      expect(files[0]?.errors[0]?.message).to.include('limit of 1 s')
    } finally {
      remove()
    }
  })

  it('prints the JSON when the worker dies on a file: that file fails with E_WORKER_CRASHED, the others parse', async function () {
    this.timeout(120_000)
    const {dir, remove} = tmpDir()
    try {
      // 30,000 statements: their lineage needs far more than a 32 MB heap.
      const big = join(dir, 'big.sql')
      const rows = Array.from(
        {length: 30_000},
        (_, i) => `INSERT INTO t${i} SELECT a${i}, b FROM s${i} JOIN u ON s${i}.k = u.k;`,
      )
      writeFileSync(big, rows.join('\n'))
      const {stdout, error} = await runCommand(['parse', big, fixture('etl.sql'), '--worker-max-mb', '32', '--json'])
      expect(error?.oclif?.exit).to.equal(1)
      const files = (JSON.parse(stdout) as Output).files
      expect(files.map((f) => [f.path, f.status])).to.deep.equal([
        [big, 'failed'],
        [fixture('etl.sql'), 'ok'],
      ])
      expect(files[0]?.errors[0]?.code).to.equal('E_WORKER_CRASHED')
      expect(files[0]?.errors[0]?.message).to.include('out of memory (limit 32 MB')
    } finally {
      remove()
    }
  })

  it('takes the dialect from LINEAGE_DIALECT', async () => {
    const {stdout} = await withEnv({LINEAGE_DIALECT: 'tsql'}, () => runCommand(['parse', fixture('etl.sql'), '--json']))
    expect((JSON.parse(stdout) as Output).files[0]?.dialect).to.equal('tsql')
  })

  const usage: [string, string[], RegExp][] = [
    ['an unknown dialect', ['--dialect', 'cobol'], /unknown SQL dialect "cobol"; accepted: ansi/],
    ['a malformed --var', ['--var', 'novalue'], /bad --var "novalue"/],
    ['a statement budget of 0', ['--statement-budget', '0'], /0 is not a positive number of seconds/],
  ]
  for (const [name, flags, message] of usage) {
    it(`rejects ${name} with the usage exit code 64`, async () => {
      const {stdout, error} = await runCommand(['parse', fixture('etl.sql'), ...flags, '--json'])
      expect(error?.oclif?.exit).to.equal(64)
      const body = JSON.parse(stdout) as {error: {code: string; message: string}}
      expect(body.error.code).to.equal('E_USAGE')
      expect(body.error.message).to.match(message)
    })
  }

  it('requires a file (64)', async () => {
    const {error} = await runCommand(['parse'])
    expect(error?.oclif?.exit).to.equal(64)
  })

  it('reports a bad --schema file as a configuration error (78)', async () => {
    const {error} = await runCommand(['parse', fixture('etl.sql'), '--schema', fixture('etl.sql')])
    expect(error?.oclif?.exit).to.equal(78)
    expect(error?.message).to.match(/cannot read schema catalogue/)
  })
})
