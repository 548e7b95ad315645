import {spawn, type ChildProcess} from 'node:child_process'
import {createServer} from 'node:net'
import {join} from 'node:path'

import {expect} from 'chai'

import {PrometheusMissing, type PrometheusServer, startPrometheus} from '../helpers/prometheus.js'
import {serviceEnv, waitFor, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

const CLI = join(process.cwd(), 'bin', 'run.js')
const RULES = join(process.cwd(), 'deploy', 'prometheus', 'lineage.rules.yml')

// ../shared/runbook.md, "Monitoring During Rollback", verbatim.
const THROUGHPUT = 'rate(files_processed_total[1m]) * 60'
const ERROR_RATE = 'rate(files_failed_total[1m]) / rate(files_processed_total[1m])'
const QUEUE_SIZE = 'queue_size'

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0)
      })
    })
  })
}

async function lineage(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{status: number | null; out: string}> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {...process.env, ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve))
  return {status, out}
}

describe("the runbook's PromQL against a real Prometheus scraping lineage watch", function () {
  this.timeout(120_000)
  let watch: ChildProcess | undefined
  let prometheus: PrometheusServer | undefined
  const tmp = useTmpDir({
    cleanup: async () => {
      await prometheus?.close()
      prometheus = undefined
      const child = watch
      watch = undefined
      if (child?.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
    },
  })

  /** The single sample of an instant query (undefined: no data). */
  const one = async (expr: string, time?: number): Promise<number | undefined> => {
    const samples = await prometheus!.query(expr, time)
    expect(samples.length, `${expr} returns at most one series`).to.be.at.most(1)
    return samples[0]?.value
  }
  const until = (what: string, expr: string, want: number) =>
    waitFor(`${what} (${expr} == ${want})`, async () => (await one(expr)) === want, 20_000)

  it('throughput, error rate and queue size answer through an ingest with failures, a rollback and a restore', async function () {
    const port = await freePort()
    // Events wait in the batcher (long debounce, big batches) until the rollback turns batching off, so the
    // queue is seen full, then falling, as the runbook says it should after a rollback.
    const env = serviceEnv(tmp.dir, {
      NEO4J_URI: undefined,
      METRICS_PORT: String(port),
      DEBOUNCE_WINDOW_SECONDS: '600',
      BATCH_SIZE_THRESHOLD: '1000',
      LINEAGE_ACTOR: 'prometheus-test',
    })
    watch = spawn(process.execPath, [CLI, 'watch', '--settle-ms', '50'], {
      env: {...process.env, ...env},
      stdio: ['ignore', 'ignore', 'ignore'],
    })
    await waitFor('the service to answer /healthz', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok
      } catch {
        return false
      }
    })
    try {
      prometheus = await startPrometheus(`127.0.0.1:${port}`, [RULES])
    } catch (error) {
      if (error instanceof PrometheusMissing) {
        console.warn(`SKIPPED: ${error.message}`)
        this.skip()
      }
      throw error
    }
    // Scraped at least once before any file: both counters have a 0 sample, so rate() sees every increase.
    await until('the service scraped', 'up{job="lineage"}', 1)
    await until('the failure counter scraped at 0', 'files_failed_total', 0)

    for (let i = 0; i < 10; i++)
      writeSql(env.LINEAGE_RAW_DIR!, `good/${i}.sql`, `INSERT INTO t${i + 1} SELECT a FROM t${i};\n`)
    writeSql(env.LINEAGE_RAW_DIR!, 'bad/1.sql', 'SELECT FROM WHERE (((;\n')
    writeSql(env.LINEAGE_RAW_DIR!, 'bad/2.sql', 'INSERT INTO ) VALUES ((( ;\n')
    await until('all 12 files queued', QUEUE_SIZE, 12)
    expect(await one('files_processed_total')).to.equal(0)

    const rollback = await lineage(env, 'rollback', 'emergency', '--reason', 'drill')
    expect(rollback.status, rollback.out).to.equal(0)
    await until('the queue drained after the rollback', QUEUE_SIZE, 0)
    await until('every file processed', 'files_processed_total', 12)
    // Served with FEATURE_METRICS=false: the runbook's signals and the flags, not the costly detail.
    expect(await one('feature_flag_enabled{feature="metrics"}')).to.equal(0)
    expect(await one('file_ingest_latency_seconds_count')).to.equal(undefined)

    // The shipped recording rule is evaluated every second; once it has seen the last scrape, query at one time.
    await waitFor('the recording rule evaluated', async () => {
      const ratio = await one('lineage:files_failed:ratio_rate1m')
      return ratio !== undefined && Math.abs(ratio - 2 / 12) < 1e-9
    })
    const at = Date.now() / 1000
    expect(await one(THROUGHPUT, at)).to.be.greaterThan(0)
    const failed = await one('files_failed_total', at)
    const processed = await one('files_processed_total', at)
    expect([failed, processed]).to.deep.equal([2, 12])
    expect(await one(ERROR_RATE, at)).to.be.closeTo(2 / 12, 1e-9)
    // "queue_size  # Should decrease after rollback": it was 12 in the last minute and is 0 now.
    expect(await one(`max_over_time(${QUEUE_SIZE}[1m])`, at)).to.equal(12)
    expect(await one(QUEUE_SIZE, at)).to.equal(0)

    const restore = await lineage(env, 'rollback', 'restore', '--reason', 'drill over')
    expect(restore.status, restore.out).to.equal(0)
    await until('metrics collection restored', 'feature_flag_enabled{feature="metrics"}', 1)
    await until('the detail series back', 'file_ingest_latency_seconds_count', 0)
    writeSql(env.LINEAGE_RAW_DIR!, 'after.sql', 'INSERT INTO z SELECT a FROM y;\n')
    await until('the next file queued with batching back on', QUEUE_SIZE, 1)
    expect(await one('files_failed_total')).to.equal(2)
  })
})
