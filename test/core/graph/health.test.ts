import {expect} from 'chai'

import {GraphHealth} from '../../../src/core/graph/health.js'

describe('GraphHealth', () => {
  let now = 0
  const clock = (): number => now
  beforeEach(() => {
    now = 1_000
  })

  it('starts up, with no reason and nothing to fail fast for', () => {
    const h = new GraphHealth(clock)
    expect(h.state).to.deep.equal({up: true, since: 1_000})
    expect(h.downReason).to.equal(undefined)
    expect(h.failFast(5_000)).to.equal(undefined)
  })

  it('goes down with a reason, and says only the first failure and a changed reason are news', () => {
    const h = new GraphHealth(clock)
    expect(h.markDown('refused')).to.equal(true)
    expect(h.state).to.deep.equal({up: false, reason: 'refused', since: 1_000, lastFailure: 1_000})
    now = 2_000
    expect(h.markDown('refused')).to.equal(false)
    expect(h.state).to.deep.equal({up: false, reason: 'refused', since: 1_000, lastFailure: 2_000})
    now = 3_000
    expect(h.markDown('timed out')).to.equal(true)
    expect(h.downReason).to.equal('timed out')
    expect(h.state).to.deep.include({since: 1_000, lastFailure: 3_000})
  })

  it('fails fast only within the window after the last failure, so a write probes Neo4j now and then', () => {
    const h = new GraphHealth(clock)
    h.markDown('refused')
    now = 5_999
    expect(h.failFast(5_000)).to.equal('refused')
    now = 6_000
    expect(h.failFast(5_000)).to.equal(undefined)
    // The probe failed too: a new window from this failure.
    h.markDown('refused')
    now = 10_999
    expect(h.failFast(5_000)).to.equal('refused')
  })

  it('comes up on a success, which ends the outage once', () => {
    const h = new GraphHealth(clock)
    expect(h.markUp()).to.equal(false)
    h.markDown('refused')
    now = 4_000
    expect(h.markUp()).to.equal(true)
    expect(h.state).to.deep.equal({up: true, since: 4_000})
    expect(h.markUp()).to.equal(false)
    expect(h.failFast(5_000)).to.equal(undefined)
    expect(h.downReason).to.equal(undefined)
  })
})
