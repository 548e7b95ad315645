import {spawnSync} from 'node:child_process'

import {expect} from 'chai'

import type {LedgerRow} from '../../../src/core/ingest/ledger.js'
import {FAILURE_REASONS} from '../../../src/core/ingest/metric-defs.js'
import {type Health, Metrics} from '../../../src/core/ingest/metrics.js'
import type {FileLineage} from '../../../src/core/types.js'

const FEATURES = {'parse-cache': true, batching: true, 'neo4j-batch': false, parallel: true, metrics: true}

function health(): Health {
  return {
    status: 'ok',
    pid: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    lastBatchAt: null,
    queueSize: 0,
    appliedRevision: 3,
    features: FEATURES,
    graph: 'off',
    problems: [],
  }
}

describe('Metrics', () => {
  let metrics: Metrics
  let port: number
  beforeEach(async () => {
    metrics = await Metrics.create(health)
    port = await metrics.listen(0, '127.0.0.1')
  })
  afterEach(async () => {
    await metrics.close()
  })
  const scrape = async (path = '/metrics') => (await fetch(`http://127.0.0.1:${port}${path}`)).text()

  const parsedFile = (relPath: string, statuses: ('ok' | 'fallback' | 'failed')[]) => {
    const statements = statuses.map((status, index) => ({status, index, line: index + 1}))
    // Only the fields the metrics read; the observer's type wants a whole FileLineage.
    const lineage = {statements} as unknown as FileLineage
    return {relPath, statements: statuses.length, status: 'ok' as const, cacheHit: false, cacheUsed: true, lineage}
  }
  const row = (path: string, graph: LedgerRow['graph']): LedgerRow => ({
    path,
    size: 1,
    mtimeMs: 1,
    contentHash: 'h',
    graph,
    updatedAt: '2026-01-01T00:00:00.000Z',
  })

  it('serves the runbook metric names, and no label carries a file path', async () => {
    metrics.setEnabled(true)
    metrics.setFlags(FEATURES, 3)
    const o = metrics.observer()
    o.fileParsed?.(parsedFile('a.sql', ['ok', 'fallback', 'ok']))
    o.fileRecorded?.({relPath: 'a.sql', row: row('a.sql', 'written'), latencyMs: 200})
    o.fileFailed?.({relPath: 'b.sql', code: 'E_PARSE', parsed: true})
    o.fileRecorded?.({relPath: 'b.sql', row: row('b.sql', 'written'), latencyMs: 100})
    o.batchDone?.({files: 2, seconds: 0.5})
    metrics.queueSize(7)
    const text = await scrape()
    for (const name of [
      'files_processed_total 2',
      'files_failed_total 1',
      'files_failed_by_reason_total{reason="parse"} 1',
      'files_parsed_total 1',
      'statements_degraded_total{status="fallback"} 1',
      'queue_size 7',
      'batch_processing_duration_seconds_count 1',
      'file_ingest_latency_seconds_count 2',
      'feature_flag_enabled{feature="neo4j-batch"} 0',
      'feature_flag_enabled{feature="parallel"} 1',
      'lineage_flag_state_revision 3',
    ]) {
      expect(text).to.include(name)
    }
    const labels = [...text.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!)
    expect(labels.filter((l) => /\.sql|\//.test(l))).to.deep.equal([])
  })

  it('pre-initialises every failure reason and degraded status at 0, so rate() sees the first one', async () => {
    metrics.setEnabled(true)
    const text = await scrape()
    for (const reason of FAILURE_REASONS) expect(text).to.include(`files_failed_by_reason_total{reason="${reason}"} 0`)
    expect(text).to.include('statements_degraded_total{status="failed"} 0')
    expect(text).to.include('files_failed_total 0')
  })

  it('counts a file whose graph write failed as failed, and a file only once its event is recorded', async () => {
    metrics.setEnabled(true)
    const o = metrics.observer()
    o.fileParsed?.(parsedFile('a.sql', ['ok']))
    expect(await scrape()).to.include('files_processed_total 0')
    o.fileRecorded?.({relPath: 'a.sql', row: row('a.sql', 'failed'), latencyMs: 5})
    o.fileRecorded?.({relPath: 'gone.sql', row: null, latencyMs: 5})
    const text = await scrape()
    expect(text).to.include('files_processed_total 1')
    expect(text).to.include('files_failed_by_reason_total{reason="graph"} 1')
  })

  it('with FEATURE_METRICS off keeps the runbook signals and flags, and drops the costly detail', async () => {
    metrics.setEnabled(false)
    metrics.setFlags({...FEATURES, metrics: false}, 4)
    const o = metrics.observer()
    o.fileParsed?.(parsedFile('a.sql', ['fallback']))
    o.fileRecorded?.({relPath: 'a.sql', row: row('a.sql', 'written'), latencyMs: 200})
    o.fileFailed?.({relPath: 'b.sql', code: 'E_FILE_READ', parsed: false})
    o.batchDone?.({files: 2, seconds: 0.5})
    metrics.queueSize(3)
    metrics.backlog(2)
    const text = await scrape()
    for (const line of [
      'files_processed_total 2',
      'files_failed_total 1',
      'queue_size 3',
      'batch_processing_duration_seconds_count 1',
      'failed_ingestion_backlog 2',
      'feature_flag_enabled{feature="metrics"} 0',
      'lineage_flag_state_revision 4',
    ]) {
      expect(text).to.include(line)
    }
    for (const costly of [
      'file_ingest_latency_seconds',
      'process_cpu',
      'statements_degraded_total',
      'files_parsed_total',
    ]) {
      expect(text).not.to.include(costly)
    }
    metrics.setEnabled(true)
    const on = await scrape()
    expect(on).to.include('file_ingest_latency_seconds_count 0')
    expect(on).to.include('process_cpu')
  })

  it('passes promtool check metrics (when promtool is installed; CI installs it)', async function () {
    const promtool = spawnSync('promtool', ['--version'])
    if (promtool.error) {
      if (process.env.CI === 'true') throw new Error('promtool is not installed: run scripts/ci/install-prometheus.sh')
      this.skip()
    }
    metrics.setEnabled(true)
    metrics.setFlags(FEATURES, 1)
    const check = spawnSync('promtool', ['check', 'metrics'], {input: await scrape(), encoding: 'utf8'})
    expect(check.stdout + check.stderr).to.equal('')
    expect(check.status).to.equal(0)
  })

  it('answers /healthz with the applied revision and 404 elsewhere', async () => {
    const body = JSON.parse(await scrape('/healthz')) as Health
    expect(body).to.include({status: 'ok', appliedRevision: 3})
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).to.equal(404)
  })

  it('answers /livez with 200 while /healthz says 503 (degraded): alive is not healthy', async () => {
    metrics.health = () => ({...health(), status: 'degraded', problems: ['Neo4j unreachable']})
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).to.equal(503)
    const live = await fetch(`http://127.0.0.1:${port}/livez`)
    expect(live.status).to.equal(200)
    expect(await live.json()).to.deep.equal({status: 'alive', pid: process.pid})
  })
})
