import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {waitFor, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

const CLI = join(process.cwd(), 'bin', 'run.js')

interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** The environment an operator has: no LINEAGE_* paths, only the registry's home (and what a test adds). */
function operatorEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(LINEAGE_|FEATURE_|INGEST_|BATCH_|DEBOUNCE_|METRICS_|NEO4J_)/.test(k)) env[k] = v
  }
  return {...env, LINEAGE_HOME: home, LINEAGE_ACTOR: 'oncall-test', ...extra}
}

async function lineage(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return {status, stdout, stderr}
}

async function gauge(port: number, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

describe('ops commands find the running watch through the registry, from any folder', function () {
  this.timeout(120_000)
  const children: ChildProcess[] = []
  const tmp = useTmpDir({
    cleanup: async () => {
      await Promise.all(children.splice(0).map(stop))
    },
  })

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        resolve()
      }),
    )
    child.kill('SIGTERM')
    await exited
  }

  /** A real `lineage watch` in its own folder with the default relative paths (data/raw, data/state, ...). */
  async function startWatch(name: string, extra: Record<string, string> = {}) {
    const dir = join(tmp.dir, name)
    mkdirSync(join(dir, 'data', 'raw'), {recursive: true})
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const env = operatorEnv(join(tmp.dir, 'home'), {
      METRICS_PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      DEBOUNCE_WINDOW_SECONDS: '0.2',
      ...extra,
    })
    const child = spawn(process.execPath, [CLI, 'watch', '--settle-ms', '50', '--name', name], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    children.push(child)
    await waitFor(
      `${name} to answer /healthz and register`,
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok && registered().length > 0
        } catch {
          return false
        }
      },
      30_000,
    )
    return {dir, port, child, stateDir: join(dir, 'data', 'state')}
  }

  const registered = (): string[] => {
    try {
      return readdirSync(join(tmp.dir, 'home', 'run'))
    } catch {
      return []
    }
  }

  it('a rollback from another folder reaches the service, even with INGEST_WORKERS=abc in the shell', async () => {
    const a = await startWatch('alpha')
    const elsewhere = join(tmp.dir, 'elsewhere')
    mkdirSync(elsewhere)
    const env = operatorEnv(join(tmp.dir, 'home'), {INGEST_WORKERS: 'abc'})
    const r = await lineage(elsewhere, env, 'rollback', 'emergency', '--reason', 'drill', '--json')
    expect(r.status, r.stderr).to.equal(0)
    const out = JSON.parse(r.stdout) as {target: {name: string; stateDir: string}; apply: {local: {service: string}}}
    expect(out.target).to.include({name: 'alpha', stateDir: a.stateDir})
    expect(out.apply.local.service).to.equal('applied')
    expect(r.stderr).to.match(/^Target: service alpha \(pid \d+\), state folder .*alpha\/data\/state$/m)
    expect(r.stderr).to.match(/warning: INGEST_WORKERS=abc is not a number/)
    expect(existsSync(join(elsewhere, 'data'))).to.equal(false)
    const status = await lineage(elsewhere, env, 'flags', 'status', '--json')
    expect(status.status, status.stderr).to.equal(0)
    const s = JSON.parse(status.stdout) as {stateDir: string; rollback: {kind: string}; service: {applied: boolean}}
    expect(s).to.deep.include({stateDir: a.stateDir})
    expect(s.rollback.kind).to.equal('emergency')
    expect(s.service.applied).to.equal(true)
  })

  it('two registered services without --service are refused with both listed; --service picks one', async () => {
    await startWatch('alpha')
    const b = await startWatch('beta')
    await waitFor('both to register', () => registered().length === 2)
    const env = operatorEnv(join(tmp.dir, 'home'))
    const refused = await lineage(tmp.dir, env, 'flags', 'status')
    expect(refused.status).to.equal(64)
    expect(refused.stderr).to.match(/2 services are running: .*alpha.*beta|2 services are running: .*beta.*alpha/)
    expect(refused.stderr).to.match(/--service/)
    const picked = await lineage(tmp.dir, env, 'rollback', 'gradual', '--service', 'beta', '--json')
    expect(picked.status, picked.stderr).to.equal(0)
    expect((JSON.parse(picked.stdout) as {stateDir: string}).stateDir).to.equal(b.stateDir)
  })

  it('a dead registration (kill -9) is ignored and cleaned', async () => {
    const a = await startWatch('alpha')
    const b = await startWatch('beta')
    await waitFor('both to register', () => registered().length === 2)
    b.child.kill('SIGKILL')
    await new Promise((r) => b.child.once('exit', r))
    const env = operatorEnv(join(tmp.dir, 'home'))
    const r = await lineage(tmp.dir, env, 'flags', 'status', '--json')
    expect(r.status, r.stderr).to.equal(0)
    expect((JSON.parse(r.stdout) as {stateDir: string}).stateDir).to.equal(a.stateDir)
    expect(registered()).to.have.length(1)
  })

  it('flags set INGEST_WORKERS 1 shrinks the running pool within 2 s (the gauge shows 1) and loses no file', async () => {
    const a = await startWatch('alpha', {INGEST_WORKERS: '4', BATCH_SIZE_THRESHOLD: '10'})
    for (let i = 0; i < 8; i++) writeSql(join(a.dir, 'data', 'raw'), `warm${i}.sql`, `SELECT ${i} FROM t${i};`)
    await waitFor('the pool to start with 4 workers', async () => (await gauge(a.port, 'ingest_workers')) === 4)
    for (let i = 0; i < 60; i++) {
      writeSql(join(a.dir, 'data', 'raw'), `f${i}.sql`, `INSERT INTO mart.m${i} SELECT a, b FROM stg.s${i};`)
    }
    const env = operatorEnv(join(tmp.dir, 'home'))
    const set = await lineage(tmp.dir, env, 'flags', 'set', 'INGEST_WORKERS', '1', '--reason', 'memory', '--json')
    expect(set.status, set.stderr).to.equal(0)
    await waitFor('the gauge to show 1 worker', async () => (await gauge(a.port, 'ingest_workers')) === 1, 2000)
    const outputs = (): number =>
      readdirSync(join(a.dir, 'data', 'output')).filter((f) => f.endsWith('.lineage.json')).length
    await waitFor('every file to come out', () => outputs() === 68, 60_000)
    const status = JSON.parse((await lineage(tmp.dir, env, 'flags', 'status', '--json')).stdout) as {
      values: {key: string; value: unknown; source: string}[]
    }
    expect(status.values.find((v) => v.key === 'INGEST_WORKERS')).to.include({value: 1, source: 'override'})
  })

  it('with no running service a change exits 69, unless --offline', async () => {
    const here = join(tmp.dir, 'nothing-runs-here')
    mkdirSync(here)
    const env = operatorEnv(join(tmp.dir, 'home'))
    const r = await lineage(here, env, 'rollback', 'gradual')
    expect(r.status).to.equal(69)
    expect(r.stderr).to.match(/no running service uses that state folder/)
    const offline = await lineage(here, env, 'rollback', 'gradual', '--offline')
    expect(offline.status, offline.stderr).to.equal(0)
  })

  it('--restart without a manager exits 64, and the systemd stand-in with no unit leaves no drop-in, service untouched', async () => {
    const a = await startWatch('alpha')
    const dropins = join(tmp.dir, 'systemd')
    const base = operatorEnv(join(tmp.dir, 'home'), {
      PATH: `${join(process.cwd(), 'test', 'fixtures', 'stand-ins')}:${process.env.PATH ?? ''}`,
      LINEAGE_STANDIN_LOG: join(tmp.dir, 'calls.jsonl'),
    })
    const noManager = await lineage(tmp.dir, base, 'rollback', 'emergency', '--restart')
    expect(noManager.status).to.equal(64)
    const before = JSON.parse((await lineage(tmp.dir, base, 'flags', 'status', '--json')).stdout) as {revision: number}
    expect(before.revision, 'nothing saved by a refused --restart').to.equal(0)
    expect(noManager.stderr).to.match(
      /^lineage: --restart needs a service manager.*\nhint: Set LINEAGE_SERVICE_MANAGER=/m,
    )
    const env = {...base, LINEAGE_SERVICE_MANAGER: 'systemd', LINEAGE_SYSTEMD_DROPIN_DIR: dropins, STANDIN_NO_UNIT: '1'}
    const noUnit = await lineage(tmp.dir, env, 'rollback', 'emergency', '--restart')
    expect(noUnit.status).to.equal(1)
    expect(noUnit.stderr).to.match(/systemd unit lineage-ingestion.service does not exist/)
    expect(existsSync(dropins)).to.equal(false)
    // The saved override still reaches the running service by itself (the unit was the only thing missing).
    const status = JSON.parse((await lineage(tmp.dir, base, 'flags', 'status', '--json')).stdout) as {
      stateDir: string
      revision: number
      service: {applied: boolean}
    }
    expect(status.stateDir).to.equal(a.stateDir)
    expect(status.revision).to.equal(1)
  })
})
