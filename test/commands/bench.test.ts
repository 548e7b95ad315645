import {mkdirSync, writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import type {BenchReport} from '../../src/bench/report.js'
import type {ScaleReport} from '../../src/bench/scale.js'
import {useTmpDir, withEnv} from '../helpers/tmp.js'

interface ErrorOutput {
  error: {code: string; exit: number; message: string; hint?: string}
}

/** Usage errors come before any step runs: no Neo4j, no service, no files. */
describe('bench (usage)', () => {
  const run = (argv: string[]) => withEnv({NEO4J_URI: undefined}, () => runCommand(['bench', ...argv]))

  it('refuses an unknown step with exit 64', async () => {
    const {error} = await run(['--steps', 'turbo'])
    expect(error?.oclif?.exit).to.equal(64)
    expect(error?.message).to.match(/turbo/)
  })

  it('refuses --corpus together with --files with exit 64', async () => {
    const {error} = await run(['--corpus', '.', '--files', '10'])
    expect(error?.oclif?.exit).to.equal(64)
  })

  it('refuses a minimum speedup that is not a positive number with exit 64', async () => {
    const {error} = await run(['--min-speedup', 'fast'])
    expect(error?.oclif?.exit).to.equal(64)
  })

  it('refuses --min-speedup without the all-on step (E_USAGE, exit 64) and says how to fix it', async () => {
    const {stdout, error} = await run(['--steps', 'parse-cache', '--min-speedup', '5', '--json'])
    expect(error?.oclif?.exit).to.equal(64)
    const body = JSON.parse(stdout) as ErrorOutput
    expect(body.error).to.include({code: 'E_USAGE', message: '--min-speedup needs the all-on step'})
    expect(body.error.hint).to.include('--steps')
  })

  it('refuses a corpus folder without SQL files with exit 64', async () => {
    const {error} = await run(['--corpus', 'man', '--steps', 'all-on'])
    expect(error?.oclif?.exit).to.equal(64)
    expect(error?.message).to.match(/no SQL files \(\.sql\) in .*man/)
  })
})

/** A step that is quick without Neo4j (no batching window), on a handful of files: the parse ceiling's report. */
describe('bench (parse ceiling, embedded)', function () {
  this.timeout(120_000)
  const tmp = useTmpDir()
  const run = (argv: string[]) =>
    withEnv({NEO4J_URI: undefined, LINEAGE_LOG_LEVEL: 'warn'}, () => runCommand(['bench', ...argv]))

  beforeEach(() => {
    mkdirSync(join(tmp.dir, 'corpus'))
    for (let i = 0; i < 8; i++) {
      writeFileSync(
        join(tmp.dir, 'corpus', `job_${i}.sql`),
        `INSERT INTO mart.t_${i} (id) SELECT id FROM raw.s_${i % 3};`,
      )
    }
  })

  it('measures the ceiling on the corpus with the available parallelism and gives every step its ratio', async () => {
    const {stdout, error} = await run(['--corpus', join(tmp.dir, 'corpus'), '--steps', 'parse-cache', '--json'])
    expect(error).to.equal(undefined)
    const report = JSON.parse(stdout) as BenchReport
    expect(report.ceiling).to.have.all.keys('threads', 'files', 'seconds', 'filesPerSecond')
    expect(report.ceiling).to.include({threads: availableParallelism(), files: 8})
    expect(report.ceiling.filesPerSecond).to.be.greaterThan(0)
    expect(report.steps.map((s) => s.name)).to.deep.equal(['baseline', 'parse-cache'])
    for (const step of report.steps) {
      expect(step.ceilingRatio, step.name).to.be.a('number').greaterThan(0)
      expect(step.initialFilesPerSecond, step.name).to.be.greaterThan(0)
    }
  })

  it("shows the ceiling, its threads and each step's share of it in the human report", async () => {
    const {stdout, error} = await run(['--corpus', join(tmp.dir, 'corpus'), '--steps', 'parse-cache'])
    expect(error).to.equal(undefined)
    const threads = availableParallelism()
    expect(stdout).to.match(
      new RegExp(
        `parse ceiling: [\\d.,]+ files/s \\(8 files in memory, ${threads} threads? = the available parallelism`,
      ),
    )
    expect(stdout).to.include('of ceiling')
    expect(stdout).to.match(/parse-cache .* \d+% .* yes/)
  })
})

/** --scale: growing folders of tiny files, each ingested by watch --once in a process of its own, then the batcher. */
describe('bench --scale', function () {
  this.timeout(180_000)
  const run = (argv: string[]) =>
    withEnv({NEO4J_URI: undefined, LINEAGE_LOG_LEVEL: 'warn'}, () => runCommand(['bench', ...argv]))

  it('ingests every size cleanly and reports time per file, CPU, peak RSS, the backlog drain and the flatness', async () => {
    const {stdout, error} = await run(['--scale', '--scale-files', '1500,300', '--scale-events', '20000', '--json'])
    expect(error).to.equal(undefined)
    const report = JSON.parse(stdout) as ScaleReport
    expect(report.ok).to.equal(true)
    expect(report.problems).to.deep.equal([])
    expect(report.sizes.map((s) => [s.files, s.ok])).to.deep.equal([
      [300, true],
      [1500, true],
    ])
    for (const s of report.sizes) {
      expect(s.msPerFile, `${s.files}`).to.be.greaterThan(0)
      expect(s.cpuMsPerFile, `${s.files}`).to.be.greaterThan(0)
      // The child's own peak: a Node process with worker threads is tens of MB at least, and not the bench's.
      expect(s.peakRssMb, `${s.files}`).to.be.within(30, 4096)
    }
    expect(report.backlog).to.include({events: 20_000, batches: 400})
    expect(report.flatness?.msPerFileRatio).to.be.greaterThan(0)
    expect(report.keptAt).to.equal(null)
  })

  it('refuses --scale with the steps options, and --scale-files without --scale (exit 64)', async () => {
    expect((await run(['--scale', '--steps', 'all-on'])).error?.oclif?.exit).to.equal(64)
    expect((await run(['--scale-files', '10'])).error?.oclif?.exit).to.equal(64)
  })
})
