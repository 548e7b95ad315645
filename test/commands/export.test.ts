import {copyFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {RunEvent} from '../../src/core/openlineage/event.js'
import {cliRun, ROOT} from '../faults/support/cli.js'
import {startSink, type Sink} from '../helpers/openlineage-sink.js'
import {serviceEnv, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

const FIXTURES = join(ROOT, 'test', 'fixtures', 'sql')

describe('lineage export --format openlineage', function () {
  this.timeout(60_000)
  const sinks: Sink[] = []
  const tmp = useTmpDir({
    prefix: 'lineage-export-',
    cleanup: async () => {
      for (const s of sinks.splice(0)) await s.close()
    },
  })

  async function sink(): Promise<Sink> {
    const s = await startSink()
    sinks.push(s)
    return s
  }

  /** A watched folder of the fixtures plus one file whose parse fails, ingested once. */
  async function ingested(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
    const env = serviceEnv(tmp.dir, {LINEAGE_NAMESPACE: 'payments', ...extra})
    for (const f of ['etl.sql', 'star.sql', 'broken.sql'])
      copyFileSync(join(FIXTURES, f), join(env.LINEAGE_RAW_DIR!, f))
    writeSql(env.LINEAGE_RAW_DIR!, 'bad/nothing.sql', 'SELEC garbage;\n')
    const res = await cliRun(['watch', '--once', '--json'], env)
    expect(res.code === 0 || res.code === 1, res.stderr).to.equal(true) // 1: nothing.sql failed, as meant
    expect(JSON.parse(res.stdout)).to.deep.include({files: 4, failed: 1})
    return env
  }

  const lines = (text: string): RunEvent[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as RunEvent)

  it('prints one event per ingested file with lineage, on stdout, the same at every run', async () => {
    const env = await ingested()
    const first = await cliRun(['export', '--format', 'openlineage'], env)
    expect(first.code, first.stderr).to.equal(0)
    const events = lines(first.stdout)
    expect(events.map((e) => e.job.name)).to.deep.equal(['broken.sql', 'etl.sql', 'star.sql'])
    expect(first.stderr).to.include('3 of 3 event(s) to stdout (namespace payments)')
    expect(first.stderr).to.include('1 failed file(s) without lineage skipped')
    const etl = events.find((e) => e.job.name === 'etl.sql')!
    expect(etl.job).to.deep.include({namespace: 'payments'})
    expect(etl.job.facets?.sql.query).to.equal(readFileSync(join(env.LINEAGE_RAW_DIR!, 'etl.sql'), 'utf8'))
    expect(etl.inputs).to.deep.equal([{namespace: 'payments', name: 'raw.orders'}])
    expect(etl.outputs.map((o) => o.name)).to.deep.equal(['mart.customer_totals'])
    expect(etl.outputs[0]?.facets?.columnLineage.fields.total?.inputFields).to.deep.equal([
      {namespace: 'payments', name: 'raw.orders', field: 'amount'},
    ])
    const again = await cliRun(['export', '--namespace', 'payments'], env)
    expect(again.stdout).to.equal(first.stdout)
    // --namespace wins over the setting; a changed SQL file keeps its lineage, not its SQL facet.
    writeSql(env.LINEAGE_RAW_DIR!, 'etl.sql', 'SELECT 1;\n')
    const other = lines((await cliRun(['export', '--namespace', 'risk'], env)).stdout)
    const changed = other.find((e) => e.job.name === 'etl.sql')!
    expect(changed.job).to.deep.equal({namespace: 'risk', name: 'etl.sql'})
    expect(changed.inputs).to.deep.equal([{namespace: 'risk', name: 'raw.orders'}])
  })

  it('writes the same events to a file with --to FILE, and says how many with --json', async () => {
    const env = await ingested()
    const stdout = (await cliRun(['export'], env)).stdout
    const file = join(tmp.dir, 'events.ndjson')
    writeFileSync(file, 'old content\n')
    const res = await cliRun(['export', '--to', file, '--json'], env)
    expect(res.code, res.stderr).to.equal(0)
    expect(JSON.parse(res.stdout)).to.deep.include({events: 3, delivered: 3, undelivered: 0, failedFiles: 1})
    expect(readFileSync(file, 'utf8')).to.equal(stdout)
    expect((await cliRun(['export', '--json'], env)).code).to.equal(64) // stdout carries the events
  })

  it('POSTs each event to an http endpoint, URL credentials as basic auth and never printed', async () => {
    const env = await ingested()
    const stdout = (await cliRun(['export'], env)).stdout
    const s = await sink()
    const url = s.url.replace('http://', 'http://ol-user:t0ps3cret@')
    const res = await cliRun(['export', '--to', `${url}?api_key=k3y-secret`], env)
    expect(res.code, res.stderr).to.equal(0)
    expect(s.events).to.deep.equal(lines(stdout))
    expect(s.requests.map((r) => r.path)).to.deep.equal(Array(3).fill('/api/v1/lineage?api_key=k3y-secret'))
    expect(s.requests[0]?.headers.authorization).to.equal(
      `Basic ${Buffer.from('ol-user:t0ps3cret').toString('base64')}`,
    )
    expect(s.requests[0]?.headers['content-type']).to.equal('application/json')
    expect(res.stdout + res.stderr).to.include(`${s.url}/api/v1/lineage?…`)
    expect(res.stdout + res.stderr)
      .not.to.include('t0ps3cret')
      .and.not.include('k3y-secret')
  })

  it('exits 1 with the count when the endpoint refuses the events', async () => {
    const env = await ingested()
    const s = await sink()
    s.status = 400
    const res = await cliRun(['export', '--to', s.url, '--json'], env)
    expect(res.code, res.stderr).to.equal(1)
    expect(JSON.parse(res.stdout)).to.deep.include({events: 3, delivered: 0, undelivered: 3})
    expect(s.requests).to.have.length(3) // a refusal is not retried; the next event is still sent
    expect(res.stderr).to.include('3 event(s) not delivered: broken.sql: HTTP 400')
  })

  it('retries an unreachable endpoint, then stops trying and counts every event undelivered', async () => {
    const env = await ingested()
    const s = await sink()
    await s.close() // the port is free now: connections are refused
    const res = await cliRun(['export', '--to', s.url], env)
    expect(res.code, res.stderr).to.equal(1)
    expect(res.stdout).to.include('0 of 3 event(s)')
    expect(res.stderr).to.match(/3 event\(s\) not delivered: broken\.sql: ECONNREFUSED/)
  })

  it('is the same as what watch sends with LINEAGE_OPENLINEAGE_URL (same jobs, datasets, column lineage)', async () => {
    const s = await sink()
    const env = await ingested({LINEAGE_OPENLINEAGE_URL: s.url})
    const exported = lines((await cliRun(['export'], env)).stdout)
    expect(exported).to.have.length(3)
    const byJob = (events: unknown[]): Map<string, RunEvent> =>
      new Map((events as RunEvent[]).map((e) => [e.job.name, e]))
    // Whole events compared: the watch reads the record it has just written, as export reads it later.
    expect(byJob(s.events)).to.deep.equal(byJob(exported))
    expect(s.events).to.have.length(3) // none for the failed file
    const watched = await cliRun(['watch', '--once'], env)
    expect(watched.stderr).to.include(`OpenLineage: 0 event(s) sent to ${s.url}/api/v1/lineage, 0 dropped`) // unchanged
    expect(s.events).to.have.length(3)
  })

  it('a watch whose endpoint is down still ingests everything, and says how many events it dropped', async () => {
    const s = await sink()
    await s.close()
    const env = serviceEnv(tmp.dir, {LINEAGE_OPENLINEAGE_URL: s.url.replace('http://', 'http://u:pw-s3cret@')})
    writeSql(env.LINEAGE_RAW_DIR!, 'a.sql', 'INSERT INTO mart.a SELECT x FROM stg.b;\n')
    writeSql(env.LINEAGE_RAW_DIR!, 'b.sql', 'INSERT INTO mart.b SELECT y FROM stg.c;\n')
    const res = await cliRun(['watch', '--once', '--json'], env)
    expect(res.code, res.stderr).to.equal(0)
    expect(JSON.parse(res.stdout)).to.deep.include({files: 2, failed: 0})
    expect(res.stderr.match(/OpenLineage endpoint .* is unreachable/g)).to.have.length(1) // once per outage
    expect(res.stderr).to.include(`OpenLineage: 0 event(s) sent to ${s.url}/api/v1/lineage, 2 dropped`)
    expect(res.stderr).not.to.include('pw-s3cret')
    expect(readFileSync(env.LINEAGE_LOG_FILE!, 'utf8')).not.to.include('pw-s3cret')
  })

  it('refuses a LINEAGE_OPENLINEAGE_URL that is not http(s) as a configuration error, without echoing it', async () => {
    const env = serviceEnv(tmp.dir, {LINEAGE_OPENLINEAGE_URL: 'ftp://u:pw-s3cret@marquez/'})
    const res = await cliRun(['watch', '--once'], env)
    expect(res.code, res.stderr).to.equal(78)
    expect(res.stderr).to.include('LINEAGE_OPENLINEAGE_URL=*** is not an http:// or https:// URL')
    expect(res.stderr).not.to.include('pw-s3cret')
  })
})
