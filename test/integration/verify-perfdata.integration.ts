// `lineage verify` as Nagios or Icinga run it, against a real running `lineage watch` and a real Neo4j: the
// plugin's first line carries the performance data after "|" (src/core/ops/verify-perf.ts), with figures a
// healthy service actually has.
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {useNeo4j} from '../helpers/neo4j.js'
import {serviceEnv, waitFor, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

const CLI = join(process.cwd(), 'bin', 'run.js')

interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Run the built CLI as the monitoring system would: asynchronously, so the service keeps running meanwhile. */
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

interface Perf {
  value: number
  uom: string
  thresholds: string
}

/** `label=value[UOM][;warn;crit;min;max]`, space-separated: the monitoring-plugin performance data format. */
function parsePerfdata(text: string): Map<string, Perf> {
  const out = new Map<string, Perf>()
  for (const token of text.trim().split(/\s+/)) {
    const m = /^([a-z0-9_]+)=(-?\d+(?:\.\d+)?)(ms|s|%|B|KB|MB|TB|c)?((?:;[^;\s]*){0,4})$/.exec(token)
    expect(m, `perfdata token ${token}`).to.not.equal(null)
    out.set(m![1]!, {value: Number(m![2]), uom: m![3] ?? '', thresholds: m![4] ?? ''})
  }
  return out
}

describe('verify prints Nagios perfdata for a healthy running service', function () {
  this.timeout(120_000)
  const neo = useNeo4j()
  let watch: ChildProcess | undefined
  let watchLog = ''
  const tmp = useTmpDir({
    cleanup: async () => {
      const child = watch
      watch = undefined
      if (child?.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve()
        })
      })
      child.kill('SIGTERM')
      await exited
    },
  })

  it('exits 0 with canary=, queue_size=, last_ingest_age=, backlog= and each check time after "|"', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const env = serviceEnv(tmp.dir, {
      NEO4J_URI: neo.uri,
      METRICS_PORT: String(port),
      DEBOUNCE_WINDOW_SECONDS: '0.2',
      LINEAGE_ACTOR: 'monitoring-test',
    })
    const child = spawn(process.execPath, [CLI, 'watch', '--settle-ms', '50'], {
      env: {...process.env, ...env},
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    watch = child
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
    // One ingested file, so the service has a last batch whose age verify reports.
    writeSql(env.LINEAGE_RAW_DIR!, 'orders.sql', 'INSERT INTO mart.orders SELECT id, amount FROM stg.orders;')
    await waitFor(
      'orders.sql in the graph',
      async () => (await neo.query('MATCH (f:SqlFile {path: "orders.sql"}) RETURN f')).length === 1,
      30_000,
    )

    const textfile = join(tmp.dir, 'textfile', 'lineage_verify.prom')
    const started = Date.now()
    const r = await lineage(env, 'verify', '--timeout', '40', '--textfile', textfile)
    const elapsed = (Date.now() - started) / 1000
    expect(r.status, `${r.stdout}\n${r.stderr}\n${watchLog}`).to.equal(0)

    // The plugin's first line: status, reason, and the performance data after the one "|".
    const first = r.stdout.split('\n')[0]!
    const m = /^LINEAGE OK - (\d+) checks passed \| (.+)$/.exec(first)
    expect(m, first).to.not.equal(null)
    expect(first.split('|')).to.have.length(2)
    const perf = parsePerfdata(m![2]!)

    // Every check's time in ms, one per check the line counted.
    const checks = ['config', 'flags', 'cache', 'backlog', 'service', 'metrics', 'neo4j', 'canary']
    expect(Number(m![1])).to.equal(checks.length)
    for (const name of checks) {
      const t = perf.get(`${name}_time`)
      expect(t, `${name}_time`).to.deep.include({uom: 'ms', thresholds: ';;;0'})
      expect(t!.value)
        .to.be.at.least(0)
        .and.below(elapsed * 1000 + 1)
    }
    // The canary's end-to-end seconds: more than the debounce window, less than the whole run.
    const canary = perf.get('canary')
    expect(canary, 'canary').to.deep.include({uom: 's', thresholds: ';;;0'})
    expect(canary!.value).to.be.at.least(0.2).and.at.most(elapsed)
    // Nothing waits in the failed-ingestion file; warn above 0.
    expect(perf.get('backlog')).to.deep.equal({value: 0, uom: '', thresholds: ';0;;0'})
    // The service's queue, drained when verify asks, as a whole number.
    const queue = perf.get('queue_size')
    expect(queue, 'queue_size').to.deep.include({uom: '', thresholds: ';;;0'})
    expect(Number.isInteger(queue!.value)).to.equal(true)
    expect(queue!.value).to.be.at.least(0).and.below(5)
    // The last batch was the canary's (or orders.sql just before): seconds ago, never in the future.
    const age = perf.get('last_ingest_age')
    expect(age, 'last_ingest_age').to.deep.include({uom: 's', thresholds: ';;;0'})
    expect(age!.value)
      .to.be.at.least(0)
      .and.below(elapsed + 5)

    // The same run recorded OK for node_exporter.
    const prom = readFileSync(textfile, 'utf8')
    expect(prom).to.match(/^lineage_verify_status 0$/m)
    expect(prom).to.match(/^lineage_verify_last_success_timestamp_seconds \d+(\.\d+)?$/m)
  })
})
