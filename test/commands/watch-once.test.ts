import {createServer, type Server} from 'node:net'
import {join} from 'node:path'

import {expect} from 'chai'

import {openDatabase} from '../../src/core/util/sqlite.js'
import {cli, cliRun} from '../faults/support/cli.js'

import {serviceEnv, waitFor, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

describe('watch --once beside a running service (the README batch-job example)', function () {
  this.timeout(60_000)
  const tmp = useTmpDir()
  let busy: Server

  before(async () => {
    // Stands in for the service that holds the metrics port on this host.
    busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  })
  after(() => {
    busy.close()
  })

  function env(): NodeJS.ProcessEnv {
    const port = (busy.address() as {port: number}).port
    const e = serviceEnv(tmp.dir, {METRICS_PORT: String(port)})
    writeSql(e.LINEAGE_RAW_DIR!, 'a.sql', 'INSERT INTO mart.a SELECT x FROM stg.b;\n')
    return e
  }

  it('serves no metrics, so the port the service holds does not stop it', async () => {
    const e = env()
    const res = await cliRun(['watch', e.LINEAGE_RAW_DIR!, e.LINEAGE_OUT_DIR!, '--once', '--json'], e)
    expect(res.code, res.stderr).to.equal(0)
    expect(JSON.parse(res.stdout)).to.deep.include({files: 1, failed: 0, metricsPort: null})
  })

  it('serves them when asked with --metrics-port', async () => {
    const e = env()
    const res = await cliRun(
      ['watch', e.LINEAGE_RAW_DIR!, e.LINEAGE_OUT_DIR!, '--once', '--json', '--metrics-port', '0'],
      e,
    )
    expect(res.code, res.stderr).to.equal(0)
    const port = (JSON.parse(res.stdout) as {metricsPort: unknown}).metricsPort
    expect(port)
      .to.be.a('number')
      .and.not.equal((busy.address() as {port: number}).port)
  })

  it('a ledger write that fails exits non-zero, naming the ledger and the reason on one line', async () => {
    const e = env()
    const args = ['watch', e.LINEAGE_RAW_DIR!, e.LINEAGE_OUT_DIR!, '--once', '--json']
    expect((await cliRun(args, e)).code).to.equal(0) // the ledger exists now
    writeSql(e.LINEAGE_RAW_DIR!, 'b.sql', 'INSERT INTO mart.b SELECT y FROM stg.c;\n')
    // Another process holds the ledger's write lock past SQLite's busy timeout (5 s): the write is refused.
    const ledger = join(e.LINEAGE_STATE_DIR!, 'ledger.sqlite')
    const holder = openDatabase(ledger)
    holder.exec('BEGIN EXCLUSIVE')
    try {
      const res = await cliRun(args, e)
      expect(res.code, res.stderr).to.equal(1)
      expect(JSON.parse(res.stdout)).to.deep.include({batchErrors: 1})
      const line = res.stderr.split('\n').find((l) => l.includes('batch(es) not recorded'))
      expect(line, res.stderr).to.include(`cannot write the ingest ledger ${ledger}`).and.include('database is locked')
      expect(res.stderr).not.to.match(/^\s+at /m) // one line, no stack trace
    } finally {
      holder.exec('ROLLBACK')
      holder.close()
    }
    // Nothing lost: the next run records what the refused one could not.
    const again = await cliRun(args, e)
    expect(again.code, again.stderr).to.equal(0)
    const summary = JSON.parse(again.stdout) as {batchErrors: number; failed: number; files: number}
    expect(summary).to.deep.include({batchErrors: 0, failed: 0})
    expect(summary.files).to.be.at.least(1)
  })

  it('a registry that cannot be written (a read-only home) does not stop the service: it says how to reach it', async () => {
    // LINEAGE_HOME not a folder: every write there fails. A free metrics port: this one is a running service.
    const e: NodeJS.ProcessEnv = {...env(), LINEAGE_HOME: '/dev/null/lineage', METRICS_PORT: '0'}
    const c = cli(['watch', e.LINEAGE_RAW_DIR!, e.LINEAGE_OUT_DIR!], e)
    try {
      await waitFor('the warning', () => c.stderr().includes('not registered') || c.exit() !== undefined, 30_000)
      expect(c.exit(), c.stderr()).to.equal(undefined)
      expect(c.stderr()).to.include(`--state-dir ${e.LINEAGE_STATE_DIR!}`)
      c.kill('SIGTERM')
      expect((await c.exited).code, c.stderr()).to.equal(0)
    } finally {
      c.kill('SIGKILL')
    }
  })
})
