import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {loadFlagState} from '../../../src/core/ops/flag-state.js'
import {withEnv, useTmpDir} from '../../helpers/tmp.js'

const STAND_INS = resolve('test/fixtures/stand-ins')

function calls(log: string): string[][] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as string[])
}

describe('rollback --restart through a service manager (recording stand-ins on PATH)', () => {
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
    }
  })

  it('systemd: writes a drop-in with the baseline Environment= lines, reloads, restarts, waits for active', async () => {
    const dropins = join(tmp.dir, 'systemd')
    const {error} = await withEnv(
      {
        ...env,
        LINEAGE_SERVICE_MANAGER: 'systemd',
        LINEAGE_SYSTEMD_UNIT: 'lineage.service',
        LINEAGE_SYSTEMD_DROPIN_DIR: dropins,
      },
      () => runCommand('rollback emergency --restart --json'),
    )
    expect(error).to.equal(undefined)
    expect(calls(env.LINEAGE_STANDIN_LOG!)).to.deep.equal([
      ['systemctl', 'show', '-p', 'LoadState', '--value', 'lineage.service'],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'restart', 'lineage.service'],
      ['systemctl', 'is-active', 'lineage.service'],
    ])
    const dropIn = readFileSync(join(dropins, 'lineage.service.d', 'lineage-flags.conf'), 'utf8')
    for (const flag of [
      'FEATURE_PARSE_CACHE',
      'FEATURE_BATCHING',
      'FEATURE_NEO4J_BATCH',
      'FEATURE_PARALLEL',
      'FEATURE_METRICS',
    ]) {
      expect(dropIn).to.include(`Environment="${flag}=false"`)
    }
    expect(dropIn).to.match(/^\[Service\]$/m)
  })

  it('docker compose: writes the env file, recreates the service, polls ps until running and healthy', async () => {
    const envFile = join(tmp.dir, 'flags.env')
    const {error} = await withEnv(
      {
        ...env,
        LINEAGE_SERVICE_MANAGER: 'compose',
        LINEAGE_COMPOSE_SERVICE: 'ingestion',
        LINEAGE_COMPOSE_FILE: '/srv/compose.yml',
        LINEAGE_COMPOSE_ENV_FILE: envFile,
      },
      () => runCommand('rollback gradual --restart --json'),
    )
    expect(error).to.equal(undefined)
    expect(calls(env.LINEAGE_STANDIN_LOG!)).to.deep.equal([
      ['docker', 'compose', '-f', '/srv/compose.yml', 'config', '--services'],
      ['docker', 'compose', '-f', '/srv/compose.yml', 'up', '-d', '--force-recreate', '--no-deps', 'ingestion'],
      ['docker', 'compose', '-f', '/srv/compose.yml', 'ps', '--format', 'json', 'ingestion'],
    ])
    const lines = readFileSync(envFile, 'utf8')
    expect(lines).to.match(/^FEATURE_PARALLEL=false$/m)
    expect(lines).to.match(/^FEATURE_PARSE_CACHE=true$/m)
  })

  it('kubernetes: sets the env on the deployment, then waits on rollout status with a timeout', async () => {
    const {error} = await withEnv(
      {
        ...env,
        LINEAGE_SERVICE_MANAGER: 'kubernetes',
        LINEAGE_K8S_DEPLOYMENT: 'lineage-ingest',
        LINEAGE_K8S_NAMESPACE: 'data',
      },
      () => runCommand('flags disable neo4j-batch --restart --json'),
    )
    expect(error).to.equal(undefined)
    const recorded = calls(env.LINEAGE_STANDIN_LOG!).slice(1)
    expect(calls(env.LINEAGE_STANDIN_LOG!)[0]).to.deep.equal([
      'kubectl',
      'get',
      'deployment/lineage-ingest',
      '-o',
      'name',
      '-n',
      'data',
    ])
    expect(recorded).to.have.length(2)
    expect(recorded[0]?.slice(0, 4)).to.deep.equal(['kubectl', 'set', 'env', 'deployment/lineage-ingest'])
    expect(recorded[0]).to.include('FEATURE_NEO4J_BATCH=false')
    expect(recorded[0]).to.include('FEATURE_PARALLEL=true')
    expect(recorded[0]?.slice(-2)).to.deep.equal(['-n', 'data'])
    expect(recorded[1]).to.deep.equal([
      'kubectl',
      'rollout',
      'status',
      'deployment/lineage-ingest',
      '--timeout=3s',
      '-n',
      'data',
    ])
  })

  it('fails loudly (exit 1, E_SERVICE_UNHEALTHY) when the service does not come back, keeping the saved state', async () => {
    const {error, stdout} = await withEnv(
      {
        ...env,
        LINEAGE_SERVICE_MANAGER: 'systemd',
        LINEAGE_SYSTEMD_DROPIN_DIR: join(tmp.dir, 'systemd'),
        STANDIN_UNHEALTHY: '1',
      },
      () => runCommand('rollback emergency --restart --json'),
    )
    expect(error?.oclif?.exit).to.equal(1)
    const body = JSON.parse(stdout) as {error: {code: string; message: string}}
    expect(body.error.code).to.equal('E_SERVICE_UNHEALTHY')
    expect(body.error.message).to.match(/did not become healthy within 3 s/)
    const status = await withEnv(env, () => runCommand('flags status --json'))
    expect((JSON.parse(status.stdout) as {rollback: {kind: string}}).rollback.kind).to.equal('emergency')
  })

  it('reports a failing manager command with its output (E_SERVICE_MANAGER)', async () => {
    const {error} = await withEnv({...env, LINEAGE_SERVICE_MANAGER: 'kubernetes', STANDIN_FAIL: 'kubectl set'}, () =>
      runCommand('rollback emergency --restart'),
    )
    expect(error?.oclif?.exit).to.equal(1)
    expect(error?.message).to.match(/kubectl set env deployment\/ingestion .* failed: kubectl: simulated failure/)
  })

  it('--restart without a service manager is a usage error (64) that says how to set one, and saves nothing', async () => {
    const {error, stdout} = await withEnv({...env, LINEAGE_SERVICE_MANAGER: undefined}, () =>
      runCommand('rollback emergency --restart --json'),
    )
    expect(error?.oclif?.exit).to.equal(64)
    const body = JSON.parse(stdout) as {error: {code: string; message: string; hint: string}}
    expect(body.error.code).to.equal('E_USAGE')
    expect(body.error.hint).to.match(/LINEAGE_SERVICE_MANAGER=systemd/)
    expect(loadFlagState(env.LINEAGE_STATE_DIR!).revision).to.equal(0)
  })

  it('systemd with no such unit: fails before writing, and leaves no drop-in behind', async () => {
    const dropins = join(tmp.dir, 'systemd')
    const {error} = await withEnv(
      {...env, LINEAGE_SERVICE_MANAGER: 'systemd', LINEAGE_SYSTEMD_DROPIN_DIR: dropins, STANDIN_NO_UNIT: '1'},
      () => runCommand('rollback emergency --restart'),
    )
    expect(error?.oclif?.exit).to.equal(1)
    expect(error?.message).to.match(/systemd unit lineage-ingestion.service does not exist/)
    expect(existsSync(dropins)).to.equal(false)
    expect(calls(env.LINEAGE_STANDIN_LOG!).map((c) => c[1])).to.deep.equal(['show'])
  })

  it('systemd restart failing: the drop-in that was there before is put back unchanged', async () => {
    const dropins = join(tmp.dir, 'systemd')
    const file = join(dropins, 'lineage-ingestion.service.d', 'lineage-flags.conf')
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, '[Service]\nEnvironment="FEATURE_PARALLEL=true"\n')
    const {error} = await withEnv(
      {
        ...env,
        LINEAGE_SERVICE_MANAGER: 'systemd',
        LINEAGE_SYSTEMD_DROPIN_DIR: dropins,
        STANDIN_FAIL: 'systemctl restart',
      },
      () => runCommand('rollback emergency --restart'),
    )
    expect(error?.message).to.match(/systemctl restart lineage-ingestion.service failed/)
    expect(readFileSync(file, 'utf8')).to.equal('[Service]\nEnvironment="FEATURE_PARALLEL=true"\n')
  })
})
