import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {listServices, register, type Registration, registryDir, unregister} from '../../../src/core/ops/registry.js'
import {resolveTarget} from '../../../src/core/ops/target.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('service registry', () => {
  const tmp = useTmpDir()
  const env = () => ({LINEAGE_HOME: tmp.dir})
  const entry = (name: string, pid: number): Registration => ({
    name,
    pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    stateDir: join(tmp.dir, name, 'state'),
    configFile: null,
    cacheFile: join(tmp.dir, name, 'cache.sqlite'),
    failedFile: join(tmp.dir, name, 'failed.jsonl'),
    logFile: join(tmp.dir, name, 'log'),
    rawDir: join(tmp.dir, name, 'raw'),
    outDir: join(tmp.dir, name, 'out'),
    metricsUrl: null,
  })
  // A pid that existed and is gone: a finished child's.
  const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid

  it('lives under LINEAGE_HOME, else the XDG folders, whatever the working directory', () => {
    expect(registryDir({LINEAGE_HOME: '/srv/lh'})).to.equal('/srv/lh/run')
    expect(registryDir({XDG_RUNTIME_DIR: '/run/user/7'})).to.equal('/run/user/7/lineage')
    // Under the shipped systemd unit (RuntimeDirectory=lineage), before any login session's folder.
    expect(registryDir({RUNTIME_DIRECTORY: '/run/lineage', XDG_RUNTIME_DIR: '/run/user/7'})).to.equal('/run/lineage')
    expect(registryDir({LINEAGE_HOME: '/srv/lh', RUNTIME_DIRECTORY: '/run/lineage'})).to.equal('/srv/lh/run')
    expect(registryDir({XDG_STATE_HOME: '/home/a/.state'})).to.equal('/home/a/.state/lineage/run')
  })

  it('lists live services, drops and deletes a dead one, and unregisters only its own', () => {
    register(entry('alpha', process.pid), env())
    register(entry('ghost', deadPid()), env())
    expect(listServices(env()).map((s) => s.name)).to.deep.equal(['alpha'])
    expect(readdirSync(registryDir(env()))).to.have.length(1)
    unregister(join(tmp.dir, 'alpha', 'state'), process.pid + 1, env())
    expect(listServices(env())).to.have.length(1)
    unregister(join(tmp.dir, 'alpha', 'state'), process.pid, env())
    expect(listServices(env())).to.have.length(0)
  })

  it('targets the one service, refuses several without --service, and takes the registered paths', () => {
    register(entry('alpha', process.pid), env())
    const one = resolveTarget({env: env()})
    expect(one).to.deep.include({how: 'registry', name: 'alpha', stateDir: join(tmp.dir, 'alpha', 'state')})
    register({...entry('beta', process.pid), startedAt: new Date(Date.now() + 1000).toISOString()}, env())
    expect(() => resolveTarget({env: env()})).to.throw(/2 services are running: alpha .*; beta /)
    expect(resolveTarget({env: env(), service: 'beta'}).stateDir).to.equal(join(tmp.dir, 'beta', 'state'))
    const explicit = resolveTarget({env: env(), stateDir: join(tmp.dir, 'other')})
    expect(explicit).to.deep.include({how: 'explicit', service: null})
  })
})
