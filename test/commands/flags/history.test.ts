import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {mutateFlagState} from '../../../src/core/ops/flag-state.js'
import {withEnv, useTmpDir} from '../../helpers/tmp.js'

describe('flags history', () => {
  const tmp = useTmpDir()

  it('prints the audit entries as JSON, newest last', async () => {
    for (const value of [false, true]) {
      await mutateFlagState(tmp.dir, {
        action: `flags set ${String(value)}`,
        actor: 'alice',
        reason: 'test',
        apply: (s) => {
          s.overrides.FEATURE_PARALLEL = {value, by: 'alice', at: '2026-01-01T00:00:00Z'}
          return {next: s, changes: [{key: 'FEATURE_PARALLEL', before: !value, after: value}]}
        },
      })
    }
    const {stdout, error} = await withEnv({LINEAGE_STATE_DIR: tmp.dir}, () => runCommand('flags history --json'))
    expect(error).to.equal(undefined)
    const result = JSON.parse(stdout) as {entries: {action: string; actor: string; revision: number}[]}
    expect(result.entries.map((e) => e.action)).to.deep.equal(['flags set false', 'flags set true'])
    expect(result.entries.map((e) => e.revision)).to.deep.equal([1, 2])
    expect(result.entries[0]?.actor).to.equal('alice')
  })

  it('rejects a bad --limit with the usage exit code 64', async () => {
    const {error, stdout} = await runCommand('flags history --limit nope --json')
    expect(error?.oclif?.exit).to.equal(64)
    expect(JSON.parse(stdout)).to.have.nested.property('error.code', 'E_USAGE')
  })

  it('reports a missing config file as a configuration error (78)', async () => {
    const {error} = await runCommand('flags history --config /nonexistent/lineage.json')
    expect(error?.oclif?.exit).to.equal(78)
    expect(error?.message).to.match(/cannot read config file/)
  })
})
