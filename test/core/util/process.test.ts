import {spawnSync} from 'node:child_process'

import {expect} from 'chai'

import {processAlive} from '../../../src/core/util/process.js'

describe('util/process', () => {
  it('processAlive: this process and init are alive, an exited child is not', () => {
    expect(processAlive(process.pid)).to.equal(true)
    expect(processAlive(1)).to.equal(true) // exists, even if it is not ours to signal (EPERM)
    const exited = spawnSync(process.execPath, ['-e', '0']).pid
    expect(processAlive(exited)).to.equal(false)
  })

  it('processAlive: no pid that addresses a process group or is not one', () => {
    for (const pid of [0, -1, -process.pid, 1.5, Number.NaN]) expect(processAlive(pid), String(pid)).to.equal(false)
  })
})
