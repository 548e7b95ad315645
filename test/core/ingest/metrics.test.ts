import {expect} from 'chai'

import {type Health, Metrics} from '../../../src/core/ingest/metrics.js'

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

  it('serves the runbook metric names, and no label carries a file path', async () => {
    metrics.setEnabled(true)
    metrics.setFlags(FEATURES, 3)
    metrics.fileProcessed(4)
    metrics.fileLatency(0.2)
    metrics.fileFailed('E_PARSE')
    metrics.batch(0.5)
    metrics.queueSize(7)
    const text = await scrape()
    for (const name of [
      'files_processed_total 1',
      'files_failed_total{reason="E_PARSE"} 1',
      'queue_size 7',
      'batch_processing_duration_seconds_count 1',
      'file_ingest_latency_seconds_count 1',
      'feature_flag_enabled{feature="neo4j-batch"} 0',
      'feature_flag_enabled{feature="parallel"} 1',
      'lineage_flag_state_revision 3',
    ]) {
      expect(text).to.include(name)
    }
    const labels = [...text.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!)
    expect(labels.filter((l) => /\.sql|\//.test(l))).to.deep.equal([])
  })

  it('with FEATURE_METRICS off collects nothing and serves only the control-plane series', async () => {
    metrics.setEnabled(false)
    metrics.setFlags({...FEATURES, metrics: false}, 4)
    metrics.fileProcessed(4)
    metrics.fileLatency(0.2)
    const text = await scrape()
    expect(text).not.to.include('files_processed_total')
    expect(text).not.to.include('process_cpu')
    expect(text).to.include('feature_flag_enabled{feature="metrics"} 0')
    expect(text).to.include('lineage_flag_state_revision 4')
    metrics.setEnabled(true)
    expect(await scrape()).to.include('files_processed_total 0')
  })

  it('answers /healthz with the applied revision and 404 elsewhere', async () => {
    const body = JSON.parse(await scrape('/healthz')) as Health
    expect(body).to.include({status: 'ok', appliedRevision: 3})
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).to.equal(404)
  })
})
