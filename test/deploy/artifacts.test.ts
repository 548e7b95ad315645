// The deploy artifacts define the names and paths `rollback --restart` uses with its default settings: the
// recording stand-ins (test/fixtures/stand-ins) run against them, and what --restart writes lands where the
// shipped unit, compose file and manifests read it.
import {cpSync, existsSync, mkdirSync, readFileSync, readdirSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {execa} from 'execa'

import {withEnv, useTmpDir} from '../helpers/tmp.js'

const STAND_INS = resolve('test/fixtures/stand-ins')
const DEPLOY = resolve('deploy')
const FEATURE_VARS = [
  'FEATURE_PARSE_CACHE',
  'FEATURE_BATCHING',
  'FEATURE_NEO4J_BATCH',
  'FEATURE_PARALLEL',
  'FEATURE_METRICS',
]

function calls(log: string): string[][] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as string[])
}

/** KEY=VALUE lines of an env file or systemd Environment= lines, without comments. */
function envKeys(text: string, pattern: RegExp): string[] {
  return [...text.matchAll(pattern)].map((m) => m[1]!).sort()
}

describe('deploy artifacts match the names rollback --restart uses (defaults, stand-ins on PATH)', () => {
  const tmp = useTmpDir()
  let env: Record<string, string | undefined>
  beforeEach(() => {
    env = {
      PATH: `${STAND_INS}:${process.env.PATH ?? ''}`,
      LINEAGE_STANDIN_LOG: join(tmp.dir, 'calls.jsonl'),
      LINEAGE_STATE_DIR: join(tmp.dir, 'state'),
      LINEAGE_RESTART_TIMEOUT_SECONDS: '3',
      LINEAGE_ACTOR: 'oncall',
      METRICS_PORT: '1',
      // The defaults are what the artifacts must match: no name is set here.
      LINEAGE_SYSTEMD_UNIT: undefined,
      LINEAGE_COMPOSE_SERVICE: undefined,
      LINEAGE_K8S_DEPLOYMENT: undefined,
      LINEAGE_K8S_NAMESPACE: undefined,
    }
  })

  it('systemd: the drop-in lands in the shipped unit folder and systemd-analyze accepts unit + drop-in', async () => {
    const root = join(tmp.dir, 'root')
    const unitDir = join(root, 'etc/systemd/system')
    mkdirSync(unitDir, {recursive: true})
    cpSync(join(DEPLOY, 'systemd'), unitDir, {recursive: true})
    const {error} = await withEnv(
      {...env, LINEAGE_SERVICE_MANAGER: 'systemd', LINEAGE_SYSTEMD_DROPIN_DIR: unitDir},
      () => runCommand('rollback emergency --restart --json'),
    )
    expect(error).to.equal(undefined)
    // Every call that names a unit names the shipped one (existence checks may precede the restart).
    const made = calls(env.LINEAGE_STANDIN_LOG!)
    expect(made).to.deep.include(['systemctl', 'restart', 'lineage-ingestion.service'])
    const units = made.flatMap((c) => c.filter((a) => a.endsWith('.service')))
    expect(new Set(units)).to.deep.equal(new Set(['lineage-ingestion.service']))
    // The folder --restart wrote into is the one the repository ships beside the unit.
    expect(existsSync(join(DEPLOY, 'systemd', 'lineage-ingestion.service.d'))).to.equal(true)
    const dropIn = readFileSync(join(unitDir, 'lineage-ingestion.service.d', 'lineage-flags.conf'), 'utf8')
    const unit = readFileSync(join(unitDir, 'lineage-ingestion.service'), 'utf8')
    // Every feature the unit sets is overridden by the drop-in (the rollback turned them all off).
    const unitFeatures = envKeys(unit, /^Environment="?(FEATURE_[A-Z0-9_]+)=/gm)
    expect(unitFeatures).to.deep.equal([...FEATURE_VARS].sort())
    for (const f of FEATURE_VARS) expect(dropIn).to.include(`Environment="${f}=false"`)

    // systemd itself reads the unit with the drop-in applied: no warning, no unknown key.
    mkdirSync(join(root, 'usr/lib/systemd'), {recursive: true})
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), {recursive: true})
    // Every executable the unit runs must exist in the root; stand-ins take their place.
    const executables = [...unit.matchAll(/^Exec[A-Za-z]*=[-@!+:]*(\/\S+)/gm)].map((m) => m[1]!)
    expect(executables).to.include('/usr/local/bin/lineage')
    for (const exe of executables) {
      mkdirSync(join(root, exe, '..'), {recursive: true})
      cpSync(join(STAND_INS, 'record.sh'), join(root, exe))
    }
    const verify = await execa(
      'systemd-analyze',
      ['verify', '--man=no', `--root=${root}`, join(unitDir, 'lineage-ingestion.service')],
      {reject: false, all: true},
    )
    expect(verify.all, 'systemd-analyze verify output').to.equal('')
    expect(verify.exitCode).to.equal(0)
  })

  it('compose: recreates service ingestion of deploy/compose.yaml, writing the env file it reads', async () => {
    const envFile = join(tmp.dir, 'lineage-flags.env')
    const composeFile = join(DEPLOY, 'compose.yaml')
    const {error} = await withEnv(
      {
        ...env,
        LINEAGE_SERVICE_MANAGER: 'compose',
        LINEAGE_COMPOSE_FILE: composeFile,
        LINEAGE_COMPOSE_ENV_FILE: envFile,
      },
      () => runCommand('rollback emergency --restart --json'),
    )
    expect(error).to.equal(undefined)
    expect(calls(env.LINEAGE_STANDIN_LOG!)).to.deep.include([
      'docker',
      'compose',
      '-f',
      composeFile,
      'up',
      '-d',
      '--force-recreate',
      '--no-deps',
      'ingestion',
    ])
    const compose = readFileSync(composeFile, 'utf8')
    // The service --restart names exists, and reads the env file by the default's name.
    expect(compose).to.match(/^ {2}ingestion:$/m)
    const ingestion = compose.slice(compose.indexOf('\n  ingestion:\n'), compose.indexOf('\n  neo4j:\n'))
    expect(ingestion).to.match(/env_file:\n\s+- path: lineage-flags\.env\n/)
    // The shipped example holds exactly the variables --restart writes.
    const written = envKeys(readFileSync(envFile, 'utf8'), /^([A-Z0-9_]+)=/gm)
    const example = envKeys(readFileSync(join(DEPLOY, 'lineage-flags.env.example'), 'utf8'), /^([A-Z0-9_]+)=/gm)
    expect(example).to.deep.equal(written)
  })

  it('kubernetes: sets env on deployment/ingestion, which the manifests define with the feature variables', async () => {
    const {error} = await withEnv({...env, LINEAGE_SERVICE_MANAGER: 'kubernetes'}, () =>
      runCommand('rollback emergency --restart --json'),
    )
    expect(error).to.equal(undefined)
    const made = calls(env.LINEAGE_STANDIN_LOG!)
    const setEnv = made.find((c) => c[1] === 'set' && c[2] === 'env')
    expect(setEnv?.[3]).to.equal('deployment/ingestion')
    expect(made.find((c) => c[1] === 'rollout')?.slice(0, 4)).to.deep.equal([
      'kubectl',
      'rollout',
      'status',
      'deployment/ingestion',
    ])
    const manifests = readdirSync(join(DEPLOY, 'kubernetes'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => readFileSync(join(DEPLOY, 'kubernetes', f), 'utf8'))
    const deployment = manifests.find((m) => /^kind: Deployment$/m.test(m))
    expect(deployment, 'a Deployment manifest').to.not.equal(undefined)
    expect(deployment).to.match(/^metadata:\n {2}name: ingestion$/m)
    expect(deployment).to.match(/^ {2}replicas: 1$/m)
    for (const f of FEATURE_VARS) expect(deployment).to.include(`- name: ${f}\n`)
    // The probes use the endpoints the service serves: readiness is health, liveness only that it answers (a
    // pod degraded by a Neo4j outage must not be restarted).
    expect(deployment).to.match(/readinessProbe:\n\s+httpGet:\n\s+path: \/healthz\n/)
    expect(deployment).to.match(/livenessProbe:\n\s+httpGet:\n\s+path: \/livez\n/)
  })
})

describe('deploy artifacts agree with each other', () => {
  it('logrotate rotates the log the systemd config writes, and reloads the shipped unit (SIGHUP reopens it)', () => {
    const config = JSON.parse(readFileSync(join(DEPLOY, 'systemd/lineage.json'), 'utf8')) as Record<string, string>
    const rotate = readFileSync(join(DEPLOY, 'logrotate/lineage'), 'utf8')
    const unit = readFileSync(join(DEPLOY, 'systemd/lineage-ingestion.service'), 'utf8')
    expect(rotate).to.match(new RegExp(`^${config.LINEAGE_LOG_FILE!.replaceAll('.', '\\.')} \\{$`, 'm'))
    expect(rotate).to.include('systemctl reload lineage-ingestion.service')
    expect(unit).to.match(/^ExecReload=.*kill -HUP \$MAINPID$/m)
  })

  it('the verify unit may write where verify writes under ProtectSystem=strict, in the service unit folders', () => {
    const config = JSON.parse(readFileSync(join(DEPLOY, 'systemd/lineage.json'), 'utf8')) as Record<string, string>
    const verifyUnit = readFileSync(join(DEPLOY, 'systemd/lineage-verify.service'), 'utf8')
    const serviceUnit = readFileSync(join(DEPLOY, 'systemd/lineage-ingestion.service'), 'utf8')
    expect(verifyUnit).to.match(/^ProtectSystem=strict$/m)
    // Both units read the same config file, so verify's canary lands in the folder the service watches.
    const configLine = /^Environment=LINEAGE_CONFIG=\S+$/m
    expect(configLine.exec(verifyUnit)?.[0]).to.equal(configLine.exec(serviceUnit)?.[0])
    // ReadWritePaths= entries; a leading "-" only means "ignore if missing".
    const writable = [...verifyUnit.matchAll(/^ReadWritePaths=(.+)$/gm)].flatMap((m) =>
      m[1]!
        .trim()
        .split(/\s+/)
        .map((p) => p.replace(/^-/, '')),
    )
    const canWrite = (path: string): boolean => writable.some((w) => path === w || path.startsWith(`${w}/`))
    const textfile = /^ExecStart=.* --textfile (\S+)/m.exec(verifyUnit)?.[1]
    expect(textfile, 'verify --textfile in ExecStart').to.be.a('string')
    // The canary file (raw), its output removed (output), the cache opened for its check, the textfile.
    const written = {
      raw: config.LINEAGE_RAW_DIR!,
      output: config.LINEAGE_OUT_DIR!,
      cache: dirname(config.LINEAGE_CACHE_FILE!),
      textfile: dirname(textfile!),
    }
    for (const [what, path] of Object.entries(written)) expect(canWrite(path), `${what}: ${path}`).to.equal(true)
    // The service's own folders: the ones verify writes into are the service unit's StateDirectory= ones.
    const stateDirs = (/^StateDirectory=(.+)$/m.exec(serviceUnit)?.[1] ?? '').split(/\s+/).map((d) => `/var/lib/${d}`)
    for (const path of [written.raw, written.output]) expect(stateDirs).to.include(path)
    expect(canWrite(stateDirs[0]!), 'verify may not write the whole state directory').to.equal(false)
  })
})
