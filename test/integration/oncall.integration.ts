import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'

import {expect} from 'chai'

import {readFailures} from '../../src/core/ingest/dead-letter.js'
import {ledgerRows} from '../helpers/ledger.js'
import {startProxy, useNeo4j, type Proxy} from '../helpers/neo4j.js'
import {ingestOnce, serviceEnv, waitFor, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

const CLI = join(process.cwd(), 'bin', 'run.js')
const SQL = (i: number) =>
  `INSERT INTO mart.t${i} (id, v) SELECT s.id, s.v * 2 FROM stg.s${i} s JOIN ref.r r ON r.id = s.id;`

interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Run the built CLI as an operator would. Asynchronous: the test's Neo4j proxy must keep serving meanwhile. */
async function lineage(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {...process.env, ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return {status, stdout, stderr}
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
}

function flagGauges(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of text.matchAll(/^feature_flag_enabled\{feature="([^"]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2])
  return out
}

describe('on-call toolkit against a real running lineage watch and Neo4j', function () {
  this.timeout(120_000)
  const neo = useNeo4j()
  const tmp = useTmpDir({
    cleanup: async () => {
      await stopWatch()
      await proxy.close()
    },
  })
  let proxy: Proxy
  let env: NodeJS.ProcessEnv
  let watch: ChildProcess | undefined
  let port = 0
  let watchLog = ''

  async function startWatch(): Promise<void> {
    port = 20_000 + Math.floor(Math.random() * 20_000)
    env.METRICS_PORT = String(port)
    const child = spawn(process.execPath, [CLI, 'watch', '--settle-ms', '50'], {
      env: {...process.env, ...env},
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    watch = child
    watchLog = ''
    child.stderr.on('data', (d: Buffer) => (watchLog += d.toString()))
    await waitFor(
      'the service to answer /healthz',
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok
        } catch {
          return false
        }
      },
      30_000,
    )
  }

  async function stopWatch(): Promise<number | null> {
    const child = watch
    watch = undefined
    if (child?.exitCode !== null) return child?.exitCode ?? null
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        resolve(code)
      }),
    )
    child.kill('SIGTERM')
    return exited
  }

  beforeEach(async () => {
    proxy = await startProxy(neo.uri)
    env = serviceEnv(tmp.dir, {NEO4J_URI: proxy.uri, LINEAGE_ACTOR: 'oncall-test', DEBOUNCE_WINDOW_SECONDS: '0.2'})
  })

  it('rollback emergency reaches the running service within 2 s (its metrics show it); restore puts it back; both audited', async () => {
    await startWatch()
    expect(Object.values(flagGauges(await metricsText(port)))).to.deep.equal([1, 1, 1, 1, 1])

    const started = Date.now()
    const rollback = await lineage(env, 'rollback', 'emergency', '--reason', 'drill', '--json')
    expect(rollback.status, rollback.stderr).to.equal(0)
    const body = JSON.parse(rollback.stdout) as {
      changes: unknown[]
      apply: {local: {service: string; waitedMs: number}}
    }
    expect(body.changes).to.have.length(5)
    expect(body.apply.local.service, watchLog).to.equal('applied')
    // From the state written to the service reporting it applied: well inside the 2 s budget.
    expect(body.apply.local.waitedMs).to.be.lessThan(2000)
    await waitFor(
      'every feature_flag_enabled gauge at 0',
      async () => Object.values(flagGauges(await metricsText(port))).every((v) => v === 0),
      2000,
    )
    expect(Date.now() - started).to.be.lessThan(2000 + 1500) // the 2 s budget plus the CLI's own start-up

    // Baseline really applies: a new file goes through one transaction per entity.
    writeSql(env.LINEAGE_RAW_DIR!, 'during-rollback.sql', SQL(1))
    await waitFor(
      'the file in the graph',
      async () => (await neo.query('MATCH (f:SqlFile {path: "during-rollback.sql"}) RETURN f')).length === 1,
    )

    const restore = await lineage(env, 'rollback', 'restore', '--reason', 'drill over', '--json')
    expect(restore.status, restore.stderr).to.equal(0)
    await waitFor(
      'every gauge back at 1',
      async () => Object.values(flagGauges(await metricsText(port))).every((v) => v === 1),
      2000,
    )

    const history = JSON.parse((await lineage(env, 'flags', 'history', '--json')).stdout) as {
      entries: {action: string; actor: string; reason: string}[]
    }
    expect(history.entries.map((e) => [e.action, e.actor, e.reason])).to.deep.equal([
      ['rollback emergency', 'oncall-test', 'drill'],
      ['rollback restore', 'oncall-test', 'drill over'],
    ])
    const status = JSON.parse((await lineage(env, 'flags', 'status', '--json')).stdout) as {
      service: {applied: boolean; via: string}
      rollback: unknown
    }
    expect(status.service).to.include({applied: true, via: 'healthz'})
    expect(status.rollback).to.equal(null)
  })

  it('verify: 0 when healthy, 1 with a rollback active, 2 when Neo4j is down, 2 when the service is stopped', async () => {
    await startWatch()
    const healthy = await lineage(env, 'verify', '--timeout', '40', '--json')
    const report = JSON.parse(healthy.stdout) as {
      status: string
      checks: {name: string; status: string; message: string}[]
    }
    expect(
      report.checks.filter((c) => c.status !== 'OK'),
      healthy.stdout,
    ).to.deep.equal([])
    expect(healthy.status).to.equal(0)
    expect(report.checks.map((c) => c.name)).to.deep.equal([
      'config',
      'flags',
      'cache',
      'backlog',
      'service',
      'metrics',
      'neo4j',
      'canary',
    ])
    // The canary went in and came out again.
    expect(
      await neo.query('MATCH (f:SqlFile) WHERE f.path STARTS WITH "lineage-verify-canary" RETURN f'),
    ).to.deep.equal([])

    expect((await lineage(env, 'rollback', 'gradual', '--reason', 'test')).status).to.equal(0)
    const warning = await lineage(env, 'verify', '--no-canary')
    expect(warning.status).to.equal(1)
    expect(warning.stdout).to.match(
      /^LINEAGE WARNING - flags: gradual rollback active since .* by oncall-test \(test\)/,
    )
    expect((await lineage(env, 'rollback', 'restore')).status).to.equal(0)

    await proxy.down()
    const critical = await lineage(env, 'verify', '--no-canary', '--timeout', '20', '--json')
    expect(critical.status).to.equal(2)
    expect(
      (JSON.parse(critical.stdout) as {checks: {name: string; status: string}[]}).checks.find((c) => c.name === 'neo4j')
        ?.status,
    ).to.equal('CRITICAL')
    await proxy.up()

    expect(await stopWatch()).to.equal(0)
    const down = await lineage(env, 'verify', '--no-canary', '--timeout', '20')
    expect(down.status).to.equal(2)
    expect(down.stdout).to.match(/service: no running service found/)
  })

  it('retry-failed after a Neo4j outage makes the graph equal an outage-free run', async () => {
    await startWatch()
    writeSql(env.LINEAGE_RAW_DIR!, 'a.sql', SQL(0))
    // Recorded by the service, not only seen in the graph: cut before its commit is acknowledged, a.sql would
    // (rightly) be kept as failed too.
    await waitFor(
      'a.sql written and recorded',
      () => ledgerRows(env.LINEAGE_STATE_DIR!).get('a.sql')?.graph === 'written',
    )
    await proxy.down()
    for (let i = 1; i <= 6; i++) writeSql(env.LINEAGE_RAW_DIR!, `b${i}.sql`, SQL(i))
    await waitFor(
      'six failed writes recorded',
      () => readFailures(env.LINEAGE_FAILED_FILE!).entries.length >= 6,
      30_000,
    )
    expect(
      readFailures(env.LINEAGE_FAILED_FILE!)
        .entries.map((e) => e.path)
        .sort(),
    ).to.deep.equal(['b1.sql', 'b2.sql', 'b3.sql', 'b4.sql', 'b5.sql', 'b6.sql'])
    await proxy.up()
    // The service catches up by itself once its probe gets an answer (within 2 s), re-ingesting b1-b6, at the
    // same time as the replay: whoever writes a file first, the other waits for it (the path lock), and the
    // replay leaves out, as superseded, a file the service wrote since the replay read the graph.
    const retry = await lineage(env, 'retry-failed', '--json')
    // Exit 1 when the service appended lines meanwhile (a superseded marker once it rewrote a file whose older
    // entries are still there): kept for the next run, which is what remaining counts.
    expect([0, 1], `${retry.stdout}${retry.stderr}`).to.include(retry.status)
    const result = JSON.parse(retry.stdout) as {
      replayed: number
      skipped: number
      skippedBy: Record<string, number>
      stillFailing: number
      appended: number
      remaining: number
    }
    expect(result.stillFailing, retry.stdout).to.equal(0)
    expect(result.skipped, retry.stdout).to.equal(result.skippedBy.superseded)
    expect(result.replayed + result.skipped, 'every entry replayed or left to the newer write').to.equal(6)
    expect(result.remaining, 'only what the service appended is left').to.equal(result.appended)
    expect(retry.status).to.equal(result.remaining > 0 ? 1 : 0)
    await waitFor('the service caught up', () => {
      const rows = ledgerRows(env.LINEAGE_STATE_DIR!)
      return ['a.sql', 'b1.sql', 'b2.sql', 'b3.sql', 'b4.sql', 'b5.sql', 'b6.sql'].every(
        (rel) => rows.get(rel)?.graph === 'written',
      )
    })
    // Nothing to replay is left: a second run finds no entry and leaves no line.
    expect(readFailures(env.LINEAGE_FAILED_FILE!).entries).to.deep.equal([])
    const again = await lineage(env, 'retry-failed', '--json')
    expect(again.status, `${again.stdout}${again.stderr}`).to.equal(0)
    expect(JSON.parse(again.stdout)).to.deep.include({replayed: 0, stillFailing: 0, remaining: 0})
    const afterReplay = await neo.graphSnapshot()

    await stopWatch()
    await neo.cleanGraph()
    await ingestOnce(serviceEnv(join(tmp.dir, 'clean'), {NEO4J_URI: neo.uri, LINEAGE_RAW_DIR: env.LINEAGE_RAW_DIR}))
    expect(afterReplay).to.deep.equal(await neo.graphSnapshot())
  })
})
