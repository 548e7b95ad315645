import {existsSync} from 'node:fs'

import {expect} from 'chai'

import {loadFlagState} from '../../../src/core/ops/flag-state.js'
import {auditFile, readAudit} from '../../../src/core/ops/audit-log.js'
import {
  parseFeature,
  resetFlags,
  rollbackEmergency,
  rollbackGradual,
  rollbackRestore,
  setFeature,
} from '../../../src/core/ops/rollback.js'
import {resolveSettings} from '../../../src/core/ops/settings.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('rollback and flag operations', () => {
  const tmp = useTmpDir()
  let ctx: {settings: {env: NodeJS.ProcessEnv}; actor: string; reason?: string}
  const features = () =>
    resolveSettings({
      env: ctx.settings.env,
      overrides: Object.fromEntries(Object.entries(loadFlagState(tmp.dir).overrides).map(([k, e]) => [k, e.value])),
    }).features

  beforeEach(() => {
    ctx = {settings: {env: {LINEAGE_STATE_DIR: tmp.dir, FEATURE_METRICS: 'true'}}, actor: 'oncall'}
  })

  it('emergency switches all five features off in one audited step with the values before', async () => {
    const result = await rollbackEmergency({...ctx, reason: 'OOM'})
    expect(result.written).to.equal(true)
    expect(Object.values(features())).to.deep.equal([false, false, false, false, false])
    const {entries} = readAudit(tmp.dir)
    expect(entries).to.have.length(1)
    expect(entries[0]).to.include({action: 'rollback emergency', actor: 'oncall', reason: 'OOM', revision: 1})
    expect(entries[0]?.changes.map((c) => [c.key, c.before, c.after])).to.deep.include.members([
      ['FEATURE_PARALLEL', true, false],
      ['FEATURE_METRICS', true, false],
    ])
    expect(loadFlagState(tmp.dir).rollback).to.include({kind: 'emergency', by: 'oncall', reason: 'OOM'})
  })

  it('emergency run twice changes nothing the second time (no new revision, no audit entry)', async () => {
    await rollbackEmergency(ctx)
    const again = await rollbackEmergency(ctx)
    expect(again.written).to.equal(false)
    expect(again.changes).to.deep.equal([])
    expect(again.revision).to.equal(1)
    expect(readAudit(tmp.dir).entries).to.have.length(1)
  })

  it('restore puts back exactly the overrides from before the rollback, then has nothing to do', async () => {
    await setFeature(ctx, 'batching', false)
    await rollbackEmergency(ctx)
    const restored = await rollbackRestore(ctx)
    expect(restored.written).to.equal(true)
    const f = features()
    expect(f.batching).to.equal(false) // disabled before the rollback, so it stays off
    expect([f.parallel, f['parse-cache'], f['neo4j-batch'], f.metrics]).to.deep.equal([true, true, true, true])
    expect(loadFlagState(tmp.dir).rollback).to.equal(null)
    expect((await rollbackRestore(ctx)).written).to.equal(false)
  })

  it('gradual disables in the runbook order: parallel, neo4j-batch, batching, parse-cache, then nothing', async () => {
    const order: string[] = []
    for (let i = 0; i < 5; i++) order.push((await rollbackGradual(ctx)).action)
    expect(order).to.deep.equal([
      'rollback gradual parallel',
      'rollback gradual neo4j-batch',
      'rollback gradual batching',
      'rollback gradual parse-cache',
      'rollback gradual',
    ])
    expect(features().metrics).to.equal(true)
    expect(loadFlagState(tmp.dir).rollback?.kind).to.equal('gradual')
    // One restore undoes every step.
    await rollbackRestore(ctx)
    expect(Object.values(features()).every(Boolean)).to.equal(true)
  })

  it('gradual with a feature disables that one and says what to watch', async () => {
    const r = await rollbackGradual(ctx, 'neo4j-batch')
    expect(features()['neo4j-batch']).to.equal(false)
    expect(features().parallel).to.equal(true)
    expect(r.effect.join(' ')).to.match(/one transaction per entity|one transaction each/)
    expect(r.effect.join(' ')).to.match(/Neo4j/)
  })

  it('skips a feature the environment already has off', async () => {
    ctx.settings.env.FEATURE_PARALLEL = 'false'
    expect((await rollbackGradual(ctx)).action).to.equal('rollback gradual neo4j-batch')
  })

  it('a rollback ends once every feature it disabled is enabled again', async () => {
    await rollbackGradual(ctx)
    expect(loadFlagState(tmp.dir).rollback).not.to.equal(null)
    await setFeature(ctx, 'parallel', true)
    expect(loadFlagState(tmp.dir).rollback).to.equal(null)
  })

  it('enable warns when it skips ahead of the re-enable order', async () => {
    await rollbackEmergency(ctx)
    const r = await setFeature(ctx, 'parallel', true)
    expect(r.effect.join(' ')).to.match(/re-enables parse-cache, batching, neo4j-batch before parallel/)
  })

  it('--dry-run reports the change but writes nothing', async () => {
    const r = await rollbackEmergency({...ctx, dryRun: true})
    expect(r.changes).to.have.length(5)
    expect(r.written).to.equal(false)
    expect(existsSync(auditFile(tmp.dir))).to.equal(false)
    expect(loadFlagState(tmp.dir).revision).to.equal(0)
  })

  it('reset drops every override and ends the rollback', async () => {
    await rollbackEmergency(ctx)
    await resetFlags(ctx)
    const state = loadFlagState(tmp.dir)
    expect(state.overrides).to.deep.equal({})
    expect(state.rollback).to.equal(null)
    expect(readAudit(tmp.dir).entries.map((e) => e.action)).to.deep.equal(['rollback emergency', 'flags reset'])
  })

  it('accepts feature names as operators type them and rejects unknown ones as usage errors', () => {
    expect(['parallel', 'FEATURE_PARSE_CACHE', 'parse_cache', 'Neo4j-Batch'].map(parseFeature)).to.deep.equal([
      'parallel',
      'parse-cache',
      'parse-cache',
      'neo4j-batch',
    ])
    expect(() => parseFeature('turbo'))
      .to.throw(/unknown feature "turbo"/)
      .with.property('exit', 64)
  })
})
