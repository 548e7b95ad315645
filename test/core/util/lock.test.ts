import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {join, resolve} from 'node:path'

import {expect} from 'chai'

import {isLineageError, LineageError} from '../../../src/core/errors.js'
import {acquireLock, LOCK_STALE_MS, lockOwnerPath, lockPath, withLock} from '../../../src/core/util/lock.js'
import {useTmpDir} from '../../helpers/tmp.js'

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  return expect.fail('expected a rejection')
}

describe('util/lock', () => {
  const tmp = useTmpDir()
  let file: string
  beforeEach(() => {
    file = join(tmp.dir, 'data', 'state.json')
  })

  it('makes <file>.lock named by its holder, and removes both on release', async () => {
    const lock = await acquireLock(file)
    expect(existsSync(lockPath(file))).to.equal(true)
    expect(existsSync(lockOwnerPath(file))).to.equal(true)
    await lock.release()
    await lock.release() // a second release is a no-op
    expect([existsSync(lockPath(file)), existsSync(lockOwnerPath(file))]).to.deep.equal([false, false])
  })

  it('waits for a live holder and takes the lock once it is given back', async () => {
    const first = await acquireLock(file)
    const order: string[] = []
    setTimeout(() => {
      order.push('released')
      void first.release()
    }, 200)
    const started = Date.now()
    await withLock(file, () => order.push('second'), {waitMs: 5000})
    expect(Date.now() - started).to.be.at.least(150)
    expect(order).to.deep.equal(['released', 'second'])
  })

  it('gives up with E_LOCKED naming the holder, and leaves its lock alone', async () => {
    const held = await acquireLock(file)
    try {
      const started = Date.now()
      const error = await rejection(acquireLock(file, {waitMs: 300}))
      expect(Date.now() - started).to.be.at.least(300)
      expect(isLineageError(error) && error.code).to.equal('E_LOCKED')
      expect((error as Error).message).to.equal(`${file} is locked by pid ${process.pid} on ${hostname()}`)
      expect(existsSync(lockOwnerPath(file))).to.equal(true)
      // waitMs 0 (a second replay): at once, with the caller's own error.
      const now = Date.now()
      const own = await rejection(
        acquireLock(file, {waitMs: 0, lockedError: (holder) => new LineageError('E_STATE', `held by ${holder}`)}),
      )
      expect(Date.now() - now).to.be.below(200)
      expect(own).to.include({code: 'E_STATE', message: `held by pid ${process.pid} on ${hostname()}`})
    } finally {
      await held.release()
    }
  })

  it('keeps the event loop free while it waits: a timer keeps firing', async () => {
    const held = await acquireLock(file)
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    try {
      await rejection(acquireLock(file, {waitMs: 500}))
    } finally {
      clearInterval(timer)
      await held.release()
    }
    // A loop spun by Atomics.wait would have let none of them run.
    expect(ticks).to.be.at.least(20)
  })

  it('breaks a stale lock: not refreshed for longer than LOCK_STALE_MS, its holder unknown', async () => {
    mkdirSync(lockPath(file), {recursive: true})
    writeFileSync(lockOwnerPath(file), JSON.stringify({pid: 1, host: 'another-host', token: 'x'}))
    const old = new Date(Date.now() - LOCK_STALE_MS - 1000)
    utimesSync(lockPath(file), old, old)
    const started = Date.now()
    await withLock(file, () => undefined, {waitMs: 0})
    expect(Date.now() - started).to.be.below(1000)
  })

  it('does not break a fresh lock of another host: its pid says nothing here', async () => {
    mkdirSync(lockPath(file), {recursive: true})
    writeFileSync(lockOwnerPath(file), JSON.stringify({pid: 999_999_999, host: 'another-host', token: 'x'}))
    const error = await rejection(acquireLock(file, {waitMs: 100}))
    expect((error as Error).message).to.include('pid 999999999 on another-host')
  })

  it('breaks at once the lock of a holder killed with SIGKILL', async function () {
    this.timeout(30_000)
    const module = resolve('src/core/util/lock.ts')
    const code = `
      const {acquireLock} = await import(${JSON.stringify(module)})
      await acquireLock(${JSON.stringify(file)})
      process.stdout.write('held\\n')
      setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await new Promise<void>((done) => {
      child.stdout.once('data', () => {
        done()
      })
    })
    child.kill('SIGKILL')
    await new Promise((done) => child.once('exit', done))
    expect(existsSync(lockPath(file)), 'left behind by the killed holder').to.equal(true)
    const started = Date.now()
    await withLock(file, () => undefined, {waitMs: 0})
    expect(Date.now() - started).to.be.below(1000)
  })
})
