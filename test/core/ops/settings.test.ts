import {writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {LineageError} from '../../../src/core/errors.js'
import {resolveSettings, SETTINGS} from '../../../src/core/ops/settings.js'
import {tmpDir} from '../../helpers/tmp.js'

describe('settings', () => {
  // Workers default to `auto`: the available parallelism capped at the runbook's 4 (issue 18).
  const autoWorkers = Math.min(4, availableParallelism())

  it('defaults match the runbook: every feature on, auto workers, batches of 50, a 5 s window', () => {
    const s = resolveSettings({env: {}, cwd: '/srv'})
    expect(s.features).to.deep.equal({
      'parse-cache': true,
      batching: true,
      'neo4j-batch': true,
      parallel: true,
      metrics: true,
    })
    expect([s.workers, s.batchSize, s.debounceMs]).to.deep.equal([autoWorkers, 50, 5000])
    expect(s.rawDir).to.equal('/srv/data/raw')
    expect(s.failedFile).to.equal('/srv/data/failed_ingestion.jsonl')
    expect(s.metrics.port).to.equal(8000)
    expect(s.neo4j).to.equal(undefined)
  })

  it('INGEST_WORKERS=auto is the available parallelism capped at 4; a number still wins', () => {
    expect(resolveSettings({env: {INGEST_WORKERS: 'auto'}, cwd: '/srv'}).workers).to.equal(autoWorkers)
    expect(resolveSettings({env: {INGEST_WORKERS: ' AUTO '}, cwd: '/srv'}).workers).to.equal(autoWorkers)
    expect(resolveSettings({env: {INGEST_WORKERS: '3'}, cwd: '/srv'}).workers).to.equal(3)
    expect(autoWorkers).to.be.within(1, 4)
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

  const configError = (input: Parameters<typeof resolveSettings>[0]): LineageError => {
    try {
      resolveSettings(input)
    } catch (error) {
      if (error instanceof LineageError) return error
      throw error
    }
    return expect.fail('expected a configuration error')
  }

  it('says what is wrong with each kind of value, and where it came from', () => {
    const e = configError({
      env: {INGEST_WORKERS: '2.5', DEBOUNCE_WINDOW_SECONDS: ' ', LINEAGE_SERVICE_MANAGER: 'nomad'},
      flags: {METRICS_PORT: 70_000},
    })
    expect(e.message.split('\n').slice(1)).to.deep.equal([
      '  INGEST_WORKERS=2.5 is not a whole number (from env)',
      '  DEBOUNCE_WINDOW_SECONDS=  is not a number (from env)',
      '  METRICS_PORT=70000 is above 65535 (from flag)',
      '  LINEAGE_SERVICE_MANAGER=nomad is not one of none, systemd, compose, kubernetes (from env)',
    ])
  })

  it('types each value by its declaration; a misspelt setting name does not compile', () => {
    const s = resolveSettings({env: {LINEAGE_SERVICE_MANAGER: 'kubernetes', METRICS_PORT: '9100'}, cwd: '/srv'})
    expect(s.serviceManager.kind).to.equal('kubernetes')
    expect(s.metrics.port).to.equal(9100)
    // @ts-expect-error INGEST_WORKER is not a setting: flags are keyed by the declared names only
    expect(resolveSettings({flags: {INGEST_WORKER: 2}}).workers).to.equal(autoWorkers)
    expect(SETTINGS.map((x) => x.key)).to.include.members(['FEATURE_PARALLEL', 'NEO4J_PASSWORD', 'METRICS_PORT'])
    expect(SETTINGS.find((x) => x.key === 'NEO4J_PASSWORD')?.secret).to.equal(true)
  })

  it('refuses a config file that is not a JSON object of known settings, naming every unknown one', () => {
    const tmp = tmpDir()
    try {
      const file = join(tmp.dir, 'c.json')
      const cases: [string, RegExp][] = [
        ['{"INGEST_WORKERS": 2, "WORKERS": 3, "FEATURE_TURBO": true}', /has unknown settings: WORKERS, FEATURE_TURBO$/],
        ['[{"INGEST_WORKERS": 2}]', /must hold a JSON object of settings$/],
        ['"INGEST_WORKERS"', /must hold a JSON object of settings$/],
        ['{"INGEST_WORKERS": 2,', /is not valid JSON/],
      ]
      for (const [text, message] of cases) {
        writeFileSync(file, text)
        const e = configError({env: {}, configFile: file})
        expect([e.code, e.exit]).to.deep.equal(['E_CONFIG', 78])
        expect(e.message).to.match(message).and.include(file)
      }
      writeFileSync(file, '{"INGEST_WORKERS": 0}')
      expect(configError({env: {}, configFile: file}).message).to.include('INGEST_WORKERS=0 is below 1 (from config)')
    } finally {
      tmp.remove()
    }
  })
})
