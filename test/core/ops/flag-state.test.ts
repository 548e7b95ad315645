import {mkdirSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'

import {expect} from 'chai'

import {isLineageError} from '../../../src/core/errors.js'
import {loadFlagState, mutateFlagState, stateFile} from '../../../src/core/ops/flag-state.js'
import {auditFile, readAudit} from '../../../src/core/ops/audit-log.js'
import {acquireLock} from '../../../src/core/util/lock.js'
import {useTmpDir} from '../../helpers/tmp.js'

const entry = {value: false, by: 'alice', at: '2026-01-01T00:00:00Z'}

describe('flag state', () => {
  const tmp = useTmpDir()

  const damaged: [string, unknown, string][] = [
    ['not JSON', '{"version": 1,', 'bad header'],
    ['an array', [], 'bad header'],
    ['another version', {version: 2, revision: 1, overrides: {}}, 'bad header'],
    ['overrides an array', {version: 1, revision: 1, overrides: [entry]}, 'overrides is not an object'],
    [
      'an override without its author',
      {version: 1, revision: 1, overrides: {FEATURE_PARALLEL: {value: false}}},
      'override FEATURE_PARALLEL',
    ],
    [
      'a rollback of an unknown kind',
      {version: 1, revision: 1, overrides: {}, rollback: {kind: 'x', by: 'a', at: 't', before: {}}},
      'rollback',
    ],
  ]
  for (const [what, content, why] of damaged) {
    it(`refuses a damaged state (${what}) as E_STATE, never as empty`, () => {
      mkdirSync(tmp.dir, {recursive: true})
      writeFileSync(stateFile(tmp.dir), typeof content === 'string' ? content : JSON.stringify(content))
      try {
        loadFlagState(tmp.dir)
        expect.fail('expected E_STATE')
      } catch (error) {
        if (!isLineageError(error)) throw error
        expect([error.code, error.exit]).to.deep.equal(['E_STATE', 78])
        expect(error.message).to.equal(`flag state ${stateFile(tmp.dir)} is damaged (${why})`)
      }
    })
  }

  it('reads a state without updatedAt or rollback as it always did', () => {
    writeFileSync(stateFile(tmp.dir), JSON.stringify({version: 1, revision: 3, overrides: {FEATURE_PARALLEL: entry}}))
    expect(loadFlagState(tmp.dir)).to.deep.equal({
      version: 1,
      revision: 3,
      updatedAt: null,
      overrides: {FEATURE_PARALLEL: entry},
      rollback: null,
    })
  })

  it('a change waits for the lock without blocking the event loop', async () => {
    const held = await acquireLock(stateFile(tmp.dir))
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    try {
      const change = mutateFlagState(tmp.dir, {
        action: 'flags disable parallel',
        actor: 'alice',
        apply: (s) => {
          s.overrides.FEATURE_PARALLEL = entry
          return {next: s, changes: [{key: 'FEATURE_PARALLEL', before: true, after: false}]}
        },
      })
      setTimeout(() => void held.release(), 300)
      const out = await change
      expect([out.written, out.state.revision]).to.deep.equal([true, 1])
      expect(ticks).to.be.at.least(10)
    } finally {
      clearInterval(timer)
      await held.release()
    }
    expect(readAudit(tmp.dir).entries.map((e) => e.action)).to.deep.equal(['flags disable parallel'])
  })

  it('counts audit lines that are not entries as damaged rather than dropping them silently', () => {
    const good = {time: 't', actor: 'a', host: hostname(), action: 'x', revision: 1, changes: [{key: 'K', after: true}]}
    writeFileSync(auditFile(tmp.dir), `${JSON.stringify(good)}\n{"time": "t"\nnot json\n\n`)
    expect(readAudit(tmp.dir)).to.deep.equal({entries: [good], damaged: 2})
  })
})
