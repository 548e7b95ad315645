import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {loadFlagState} from '../../../src/core/ops/flag-state.js'
import {withEnv, useTmpDir} from '../../helpers/tmp.js'

interface SwitchOutput {
  action: string
  changes: {key: string; before: unknown; after: unknown}[]
  written: boolean
  dryRun: boolean
}

describe('flags enable | disable', () => {
  const tmp = useTmpDir()
  const run = (args: string): ReturnType<typeof runCommand> =>
    withEnv(
      {LINEAGE_STATE_DIR: tmp.dir, LINEAGE_ACTOR: 'alice', FEATURE_PARALLEL: undefined, LINEAGE_OFFLINE: '1'},
      () => runCommand(args),
    )

  it('disable saves an override to false with who and why, enable puts it to true, both audited', async () => {
    const off = await run('flags disable parallel --reason "worker OOM" --json')
    expect(off.error).to.equal(undefined)
    const disabled = JSON.parse(off.stdout) as SwitchOutput
    expect(disabled.written).to.equal(true)
    expect(disabled.changes).to.deep.include({key: 'FEATURE_PARALLEL', before: true, after: false})
    expect(loadFlagState(tmp.dir).overrides.FEATURE_PARALLEL).to.include({value: false})

    const on = await run('flags enable parallel --json')
    expect(on.error).to.equal(undefined)
    expect((JSON.parse(on.stdout) as SwitchOutput).changes).to.deep.include({
      key: 'FEATURE_PARALLEL',
      before: false,
      after: true,
    })
    expect(loadFlagState(tmp.dir).overrides.FEATURE_PARALLEL).to.include({value: true})

    const history = await run('flags history --json')
    const entries = (JSON.parse(history.stdout) as {entries: {action: string; actor: string; reason?: string}[]})
      .entries
    expect(entries).to.have.length(2)
    expect(entries[0]).to.include({actor: 'alice', reason: 'worker OOM'})
  })

  it('--dry-run shows the change and saves nothing', async () => {
    const {stdout, error} = await run('flags disable batching --dry-run --json')
    expect(error).to.equal(undefined)
    const out = JSON.parse(stdout) as SwitchOutput
    expect(out.dryRun).to.equal(true)
    expect(out.written).to.equal(false)
    expect(out.changes).to.deep.include({key: 'FEATURE_BATCHING', before: true, after: false})
    expect(loadFlagState(tmp.dir).overrides.FEATURE_BATCHING).to.equal(undefined)
  })

  it('an unknown feature is a usage error (64) that names the valid ones', async () => {
    const {error} = await run('flags enable turbo')
    expect(error?.oclif?.exit).to.equal(64)
    expect(error?.message).to.match(/parse-cache/)
  })
})
