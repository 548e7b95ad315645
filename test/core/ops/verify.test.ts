import {readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {join} from 'node:path'

import {expect} from 'chai'

import {overallStatus, verify} from '../../../src/core/ops/verify.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('verify (without a service)', () => {
  const tmp = useTmpDir()

  it('takes the worst status: CRITICAL over WARNING over UNKNOWN over OK', () => {
    const c = (status: 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN') => ({name: 'x', status, message: '', ms: 0})
    expect(overallStatus([c('OK'), c('UNKNOWN'), c('WARNING')])).to.equal('WARNING')
    expect(overallStatus([c('WARNING'), c('CRITICAL')])).to.equal('CRITICAL')
    expect(overallStatus([c('OK'), c('UNKNOWN')])).to.equal('UNKNOWN')
    expect(overallStatus([c('OK')])).to.equal('OK')
  })

  it('is CRITICAL (exit 2) with no service running, warns of a backlog, and records the run for node_exporter', async () => {
    const failed = join(tmp.dir, 'failed.jsonl')
    writeFileSync(failed, 'not json but kept\n')
    const textfile = join(tmp.dir, 'textfile', 'lineage.prom')
    const result = await verify({
      settings: {env: {LINEAGE_STATE_DIR: join(tmp.dir, 'state'), LINEAGE_FAILED_FILE: failed, METRICS_PORT: '1'}},
      timeoutMs: 5000,
      canary: true,
      textfile,
    })
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c.status]))
    expect(byName).to.deep.include({
      config: 'OK',
      flags: 'OK',
      service: 'CRITICAL',
      neo4j: 'OK',
      backlog: 'WARNING',
      canary: 'UNKNOWN',
    })
    expect(result.checks.find((c) => c.name === 'backlog')?.message).to.include(`lineage retry-failed ${failed}`)
    expect([result.status, result.exitCode]).to.deep.equal(['CRITICAL', 2])
    const prom = readFileSync(textfile, 'utf8')
    expect(prom).to.match(/^lineage_verify_status 2$/m)
    expect(prom).not.to.match(/last_success/)
    // Nagios perfdata: every check's time, the backlog (warn above 0); no service, so no queue figures.
    const perf = result.perfdata.split(' ')
    for (const c of result.checks) expect(perf).to.include(`${c.name}_time=${c.ms}ms;;;0`)
    expect(perf).to.include('backlog=1;0;;0')
    expect(result.perfdata).not.to.match(/queue_size|last_ingest_age|canary=/)
  })

  it('names a textfile it cannot write as a WARNING check instead of dropping it silently', async () => {
    // The parent is a file: the write fails the way a read-only or root-owned textfile folder does.
    const blocker = join(tmp.dir, 'not-a-folder')
    writeFileSync(blocker, '')
    const textfile = join(blocker, 'lineage.prom')
    const result = await verify({
      settings: {env: {LINEAGE_STATE_DIR: join(tmp.dir, 'state'), METRICS_PORT: '1'}},
      timeoutMs: 5000,
      canary: false,
      textfile,
    })
    expect(result.textfile).to.equal(null)
    const check = result.checks.find((c) => c.name === 'textfile')
    expect(check?.status).to.equal('WARNING')
    expect(check?.message).to.include(`cannot write the node_exporter textfile ${textfile}`)
    // No service is running, so the run stays CRITICAL: the worst status wins.
    expect([result.status, result.exitCode]).to.deep.equal(['CRITICAL', 2])
  })

  it('extends a timeout shorter than the debounce window rather than calling a healthy service dead', async () => {
    const settings = {env: {LINEAGE_STATE_DIR: join(tmp.dir, 'state'), METRICS_PORT: '1', DEBOUNCE_WINDOW_SECONDS: '5'}}
    const result = await verify({settings, timeoutMs: 3000, canary: true, textfile: null})
    expect(result.checks.find((c) => c.name === 'timeout')).to.include({
      status: 'OK',
      message: 'timeout extended from 3 s to 10 s: the canary waits out the 5 s debounce window',
    })
    const noCanary = await verify({settings, timeoutMs: 3000, canary: false, textfile: null})
    expect(noCanary.checks.map((c) => c.name)).not.to.include('timeout')
  })

  it('reports an invalid configuration as CRITICAL without going further', async () => {
    const result = await verify({
      settings: {env: {INGEST_WORKERS: 'many'}},
      timeoutMs: 5000,
      canary: false,
      textfile: null,
    })
    expect(result.checks).to.have.length(1)
    expect(result.checks[0]).to.include({name: 'config', status: 'CRITICAL'})
    expect(result.checks[0]?.message).to.include('INGEST_WORKERS=many')
  })

  it('never runs past its total timeout: a check still going becomes UNKNOWN', async () => {
    // A "Neo4j" that accepts connections and never answers: without the deadline the check would hang.
    const sockets: Socket[] = []
    const blackHole = createServer((s) => sockets.push(s))
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve))
    const port = (blackHole.address() as {port: number}).port
    try {
      const started = Date.now()
      const result = await verify({
        settings: {
          env: {LINEAGE_STATE_DIR: join(tmp.dir, 'state'), NEO4J_URI: `bolt://127.0.0.1:${port}`, METRICS_PORT: '1'},
        },
        timeoutMs: 1500,
        canary: false,
        textfile: null,
      })
      expect(Date.now() - started).to.be.lessThan(2500)
      const neo4j = result.checks.find((c) => c.name === 'neo4j')
      expect(neo4j?.status).to.equal('UNKNOWN')
      expect(neo4j?.message).to.match(/total timeout/)
      // The local checks ran first and still answered.
      expect(result.checks.find((c) => c.name === 'backlog')?.status).to.equal('OK')
    } finally {
      for (const s of sockets) s.destroy()
      blackHole.close()
    }
  })
})
