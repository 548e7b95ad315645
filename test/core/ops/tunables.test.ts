import {availableParallelism} from 'node:os'

import {expect} from 'chai'

import {loadFlagState} from '../../../src/core/ops/flag-state.js'
import {readAudit} from '../../../src/core/ops/audit-log.js'
import {rollbackEmergency, rollbackRestore} from '../../../src/core/ops/rollback.js'
import {resolveSettings} from '../../../src/core/ops/settings.js'
import {setTunable, unsetTunable} from '../../../src/core/ops/tunables.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('tunables: flags set and unset', () => {
  const tmp = useTmpDir()
  const ctx = () => ({settings: {env: {LINEAGE_STATE_DIR: tmp.dir, INGEST_WORKERS: '6'}}, actor: 'oncall'})
  const workers = () =>
    resolveSettings({
      env: {LINEAGE_STATE_DIR: tmp.dir, INGEST_WORKERS: '6'},
      overrides: Object.fromEntries(Object.entries(loadFlagState(tmp.dir).overrides).map(([k, e]) => [k, e.value])),
    }).workers

  it('set validates, overrides the environment and is audited; unset gives the environment back', async () => {
    const set = await setTunable({...ctx(), reason: 'memory'}, 'ingest_workers', '2')
    expect(set.changes).to.deep.equal([{key: 'INGEST_WORKERS', before: 6, after: 2}])
    expect(workers()).to.equal(2)
    await unsetTunable(ctx(), 'INGEST_WORKERS')
    expect(workers()).to.equal(6)
    const actions = readAudit(tmp.dir).entries.map((e) => [e.action, e.reason])
    expect(actions).to.deep.equal([
      ['flags set INGEST_WORKERS', 'memory'],
      ['flags unset INGEST_WORKERS', undefined],
    ])
  })

  it('refuses a value out of bounds, a non-number and a feature name as usage errors (64), saving nothing', async () => {
    for (const [key, value] of [
      ['INGEST_WORKERS', '0'],
      ['BATCH_SIZE_THRESHOLD', 'ten'],
      ['FEATURE_PARALLEL', 'false'],
    ] as const) {
      const error = await setTunable(ctx(), key, value).catch((e: unknown) => e)
      expect(error).to.include({code: 'E_USAGE', exit: 64})
    }
    expect(loadFlagState(tmp.dir).revision).to.equal(0)
  })

  it('rollback restore also puts back a tunable set during the rollback', async () => {
    await setTunable(ctx(), 'INGEST_WORKERS', '3')
    await rollbackEmergency(ctx())
    await setTunable(ctx(), 'INGEST_WORKERS', '1')
    expect(workers()).to.equal(1)
    await rollbackRestore(ctx())
    expect(workers()).to.equal(3)
    expect(loadFlagState(tmp.dir).rollback).to.equal(null)
  })
})

describe('tolerant settings (the on-call commands)', () => {
  it('a bad value falls back to its default and is reported, where strict resolution throws', () => {
    const env = {INGEST_WORKERS: 'abc', BATCH_SIZE_THRESHOLD: '-1', LINEAGE_STATE_DIR: '/tmp/x'}
    expect(() => resolveSettings({env})).to.throw(/INGEST_WORKERS=abc/)
    const s = resolveSettings({env, tolerant: true})
    expect(s.workers).to.equal(Math.min(4, availableParallelism())) // the default: auto (issue 18)
    expect(s.batchSize).to.equal(50)
    expect(s.stateDir).to.equal('/tmp/x')
    expect(s.problems).to.deep.equal([
      'INGEST_WORKERS=abc is not a number (from env)',
      'BATCH_SIZE_THRESHOLD=-1 is below 1 (from env)',
    ])
  })
})
