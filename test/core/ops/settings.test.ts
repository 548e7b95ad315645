import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {LineageError} from '../../../src/core/errors.js'
import {resolveSettings} from '../../../src/core/ops/settings.js'
import {tmpDir} from '../../helpers/tmp.js'

describe('settings', () => {
  it('defaults match the runbook: every feature on, 4 workers, batches of 50, a 5 s window', () => {
    const s = resolveSettings({env: {}, cwd: '/srv'})
    expect(s.features).to.deep.equal({
      'parse-cache': true,
      batching: true,
      'neo4j-batch': true,
      parallel: true,
      metrics: true,
    })
    expect([s.workers, s.batchSize, s.debounceMs]).to.deep.equal([4, 50, 5000])
    expect(s.rawDir).to.equal('/srv/data/raw')
    expect(s.failedFile).to.equal('/srv/data/failed_ingestion.jsonl')
    expect(s.metrics.port).to.equal(8000)
    expect(s.neo4j).to.equal(undefined)
  })

  it('resolves override over flag over environment over config file over default, keeping the source', () => {
    const tmp = tmpDir()
    try {
      const config = join(tmp.dir, 'c.json')
      writeFileSync(config, JSON.stringify({INGEST_WORKERS: 2, BATCH_SIZE_THRESHOLD: 7, DEBOUNCE_WINDOW_SECONDS: 1}))
      const s = resolveSettings({
        env: {BATCH_SIZE_THRESHOLD: '9', DEBOUNCE_WINDOW_SECONDS: '2', FEATURE_PARALLEL: 'true'},
        configFile: config,
        flags: {DEBOUNCE_WINDOW_SECONDS: 3},
        overrides: {FEATURE_PARALLEL: false},
      })
      const source = (key: string) => s.values.find((v) => v.key === key)?.source
      expect([s.workers, source('INGEST_WORKERS')]).to.deep.equal([2, 'config'])
      expect([s.batchSize, source('BATCH_SIZE_THRESHOLD')]).to.deep.equal([9, 'env'])
      expect([s.debounceMs, source('DEBOUNCE_WINDOW_SECONDS')]).to.deep.equal([3000, 'flag'])
      expect([s.features.parallel, source('FEATURE_PARALLEL')]).to.deep.equal([false, 'override'])
      expect(s.values.find((v) => v.key === 'FEATURE_PARALLEL')?.envValue).to.equal('true')
    } finally {
      tmp.remove()
    }
  })

  it('reports every bad value at once as a configuration error (exit 78)', () => {
    let error: unknown
    try {
      resolveSettings({
        env: {FEATURE_BATCHING: 'maybe', INGEST_WORKERS: '0', NEO4J_URI: 'http://x', METRICS_PORT: 'eighty'},
      })
    } catch (e) {
      error = e
    }
    expect(error).to.be.instanceOf(LineageError)
    const e = error as LineageError
    expect(e.exit).to.equal(78)
    expect(e.code).to.equal('E_CONFIG')
    for (const part of [
      'FEATURE_BATCHING=maybe',
      'INGEST_WORKERS=0 is below 1',
      'NEO4J_URI=http://x',
      'METRICS_PORT=eighty',
    ]) {
      expect(e.message).to.include(part)
    }
  })

  it('reads the password from NEO4J_PASSWORD_FILE and never shows it among the values', () => {
    const tmp = tmpDir()
    try {
      const file = join(tmp.dir, 'pw')
      writeFileSync(file, 's3cret-pass\n')
      const s = resolveSettings({
        env: {NEO4J_URI: 'bolt://127.0.0.1:7687', NEO4J_PASSWORD_FILE: file, NEO4J_PASSWORD: 'other'},
      })
      expect(s.neo4j?.password).to.equal('s3cret-pass')
      expect(JSON.stringify(s.values)).not.to.include('s3cret')
      const direct = resolveSettings({env: {NEO4J_URI: 'bolt://h:1', NEO4J_PASSWORD: 'hunter22'}})
      expect(JSON.stringify(direct.values)).not.to.include('hunter22')
    } finally {
      tmp.remove()
    }
  })

  it('accepts the usual spellings of booleans', () => {
    for (const [text, value] of [
      ['false', false],
      ['0', false],
      ['off', false],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
    ] as const) {
      expect(resolveSettings({env: {FEATURE_METRICS: text}}).features.metrics).to.equal(value)
    }
  })
})
