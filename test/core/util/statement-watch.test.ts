import {expect} from 'chai'
import sinon from 'sinon'

import {StatementBeacon, StatementWatch} from '../../../src/core/util/statement-watch.js'

// The beacon and the watch share memory across threads; here both sides run in one thread, on a fake clock.
describe('statement watch', () => {
  let clock: sinon.SinonFakeTimers
  beforeEach(() => {
    clock = sinon.useFakeTimers()
  })
  afterEach(() => {
    clock.restore()
    sinon.restore()
  })

  function setup(budgetMs: number): {watch: StatementWatch; beacon: StatementBeacon; over: unknown[]} {
    const watch = new StatementWatch(budgetMs, () => clock.now)
    const over: unknown[] = []
    watch.watch((span) => over.push(span))
    return {watch, beacon: new StatementBeacon(watch.buffer), over}
  }

  it('reports the statement still running after its budget, once, with its span', () => {
    const {beacon, over} = setup(1000)
    beacon.mark({start: 0, end: 10})
    clock.tick(500)
    beacon.mark({start: 11, end: 4000})
    clock.tick(900)
    expect(over).to.deep.equal([])
    clock.tick(600)
    expect(over).to.deep.equal([{start: 11, end: 4000}])
    clock.tick(10_000)
    expect(over).to.have.length(1)
  })

  it('reports nothing while statements keep starting, between files, or once stopped', () => {
    const {watch, beacon, over} = setup(1000)
    for (let i = 0; i < 20; i++) {
      beacon.mark({start: i, end: i + 1})
      clock.tick(400)
    }
    beacon.mark(null)
    clock.tick(5000)
    beacon.mark({start: 99, end: 100})
    watch.stop()
    clock.tick(5000)
    expect(over).to.deep.equal([])
  })
})
