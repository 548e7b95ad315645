/**
 * A shortened `lineage bench` through the command, against the real Neo4j: the report's shape, and every
 * step's graph and output equal to the baseline's. No speed threshold: timings on shared machines are noise
 * (the threshold is for the full run, see docs/performance.md). The corpus is small SQL files, because the
 * baseline writes one transaction per entity.
 */
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {dirname, join} from 'node:path'

import {captureOutput, runCommand} from '@oclif/test'
import {expect} from 'chai'
import sinon from 'sinon'

import Bench from '../../src/commands/bench.js'
import type {BenchReport} from '../../src/bench/report.js'
import type {GraphWriter as WriterType} from '../../src/core/graph/writer.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {withEnv, useTmpDir} from '../helpers/tmp.js'

const STEP_KEYS = [
  'name',
  'filesPerMinute',
  'p50Ms',
  'p95Ms',
  'cpuSeconds',
  'peakRssMb',
  'cacheHitRate',
  'transactions',
  'speedup',
  'initialFilesPerSecond',
  'ceilingRatio',
]

/** Small warehouse jobs: three statements over shared tables, so files share Table and Column nodes. */
function writeSmallCorpus(dir: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const src = (k: number) => `raw.src_${(i + k) % 9}`
    const sql = [
      `INSERT INTO staging.stage_${i % 11} (id, amount, note)`,
      `SELECT a.id, a.amount + b.amount, b.note FROM ${src(0)} a JOIN ${src(1)} b ON b.id = a.id;`,
      `CREATE VIEW mart.v_${i} AS SELECT id, amount FROM staging.stage_${i % 11} WHERE amount > 0;`,
      `INSERT INTO mart.totals_${i % 5} (id, total) SELECT id, SUM(amount) FROM staging.stage_${i % 11} GROUP BY id;`,
    ].join('\n')
    const file = join(dir, `batch_${Math.floor(i / 20)}`, `job_${i}.sql`)
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, sql)
  }
}

interface ErrorOutput {
  error: {code: string; exit: number; message: string; hint?: string}
}

describe('lineage bench (shortened, real Neo4j)', function () {
  this.timeout(180_000)
  const neo = useNeo4j()
  const tmp = useTmpDir({
    cleanup: () => {
      sinon.restore()
    },
  })
  let corpus: string
  const run = (argv: string[], env: Record<string, string | undefined> = {}) =>
    withEnv({NEO4J_URI: neo.uri, LINEAGE_LOG_LEVEL: 'warn', ...env}, () => runCommand(['bench', ...argv]))

  beforeEach(() => {
    corpus = join(tmp.dir, 'corpus')
    writeSmallCorpus(corpus, 60)
  })

  it('runs every step end to end and each one leaves the same graph and output as the baseline', async () => {
    const {stdout, error} = await run(['--corpus', corpus, '--json'])
    expect(error).to.equal(undefined)
    const report = JSON.parse(stdout) as BenchReport
    expect(report.graph).to.equal(true)
    expect(report.ok).to.equal(true)
    expect(report.problems).to.deep.equal([])
    expect(report.steps.map((s) => s.name)).to.deep.equal([
      'baseline',
      'parse-cache',
      'batching',
      'neo4j-batch',
      'parallel',
      'all-on',
    ])
    for (const step of report.steps) {
      expect(step).to.include.keys(STEP_KEYS)
      for (const key of STEP_KEYS.slice(1)) {
        if (key !== 'cacheHitRate') expect(step[key as keyof typeof step], `${step.name}.${key}`).to.be.a('number')
      }
      expect(step.filesPerMinute).to.be.greaterThan(0)
      expect(step.p95Ms).to.be.at.least(step.p50Ms)
      expect(step.differences).to.deep.equal([])
      expect(step.graphFailures).to.equal(0)
    }
    // The parse ceiling, once, on the same 60 files; every step's initial ingest is a positive share of it.
    expect(report.ceiling).to.include({threads: availableParallelism(), files: 60})
    expect(report.ceiling.filesPerSecond).to.be.greaterThan(0)
    for (const step of report.steps) expect(step.ceilingRatio, step.name).to.be.greaterThan(0)
    // The graph server's CPU per file, read from Neo4j itself (JMX) around each step.
    for (const step of report.steps) expect(step.neo4jCpuMsPerFile, step.name).to.be.a('number').greaterThan(0)
    const [baseline, ...others] = report.steps
    expect(baseline).to.include({speedup: 1, cacheHitRate: null, matchesBaseline: null, parsedInPool: 0})
    for (const step of others) expect(step.matchesBaseline, step.name).to.equal(true)
    // One transaction per entity against a handful per batch: the steps really ran their configurations.
    const byName = new Map(report.steps.map((s) => [s.name, s]))
    expect(byName.get('neo4j-batch')?.transactions).to.be.lessThan((baseline?.transactions ?? 0) / 20)
    expect(byName.get('parse-cache')?.cacheHitRate).to.be.a('number')
    expect(byName.get('parallel')?.parsedInPool).to.be.greaterThan(0)
    expect(report.speedup).to.equal(byName.get('all-on')?.speedup)
    const burst = report.workload.burst
    expect(report.workload.files).to.equal(60)
    expect(report.workload.fileChanges).to.equal(60 + burst.resaved + burst.edited + burst.rapidSaves + burst.deleted)
    // The bench leaves the graph as it found it: empty.
    expect((await neo.query('MATCH (n) RETURN count(n) AS n'))[0]?.n).to.equal(0)
  })

  it('refuses a graph that is not empty (exit 64) and touches nothing, unless --clear-graph', async () => {
    await neo.query("CREATE (:Keep {name: 'production data'})")
    const refused = await run(['--corpus', corpus, '--steps', 'all-on', '--json'])
    expect(refused.error?.oclif?.exit).to.equal(64)
    const body = JSON.parse(refused.stdout) as ErrorOutput
    expect(body.error.code).to.equal('E_USAGE')
    expect(body.error.message).to.match(/graph at bolt:\/\/.* is not empty \(1 nodes\)/)
    expect(body.error.hint).to.include('--clear-graph')
    expect(await neo.query('MATCH (n:Keep) RETURN n.name AS name')).to.deep.equal([{name: 'production data'}])

    const small = join(tmp.dir, 'small')
    writeSmallCorpus(small, 6)
    const cleared = await run(['--corpus', small, '--steps', 'parse-cache', '--clear-graph'])
    expect(cleared.error).to.equal(undefined)
    expect(cleared.stdout.split('\n')[0]).to.match(/^graph: on, Neo4j at bolt:/)
    expect((await neo.query('MATCH (n) RETURN count(n) AS n'))[0]?.n).to.equal(0)
  })

  it('fails a faster wrong answer: a step whose graph differs exits 1 and says which step and how', async () => {
    // Sabotage the batched writer: it drops every file it should write (retractions still go through) yet
    // reports success. (Dropping only some files is not a sure failure: the burst may delete or rewrite them.)
    // Imported the way the command imports it (mocha may load this file as CommonJS, a separate module instance).
    const {GraphWriter} = await import('../../src/core/graph/writer.js')
    const stub = sinon.stub(GraphWriter.prototype, 'applyPrepared')
    stub.callsFake(async function (this: WriterType, items, options) {
      const kept = options.batched ? items.filter((i) => i.op !== 'upsert') : items
      const result = await stub.wrappedMethod.call(this, kept, options)
      return {...result, written: items}
    })
    const small = join(tmp.dir, 'small')
    writeSmallCorpus(small, 8)
    // From the sources (not the built command), so the stub is the class the bench uses.
    const {stdout, stderr, error} = await withEnv({NEO4J_URI: neo.uri, LINEAGE_LOG_LEVEL: 'warn'}, () =>
      captureOutput(() => Bench.run(['--corpus', small, '--steps', 'neo4j-batch', '--json'], import.meta.url)),
    )
    expect(error?.oclif?.exit).to.equal(1)
    const report = JSON.parse(stdout) as BenchReport
    expect(report.ok).to.equal(false)
    const step = report.steps.find((s) => s.name === 'neo4j-batch')
    expect(step?.matchesBaseline).to.equal(false)
    expect(step?.differences.join('\n')).to.match(
      /graph: files in the graph (missing|not in the baseline): batch_0\/job_\d\.sql/,
    )
    expect(report.problems[0]).to.match(/^step neo4j-batch differs from the baseline: graph: /)
    expect(stderr).to.include('FAILED: step neo4j-batch differs from the baseline')
    // A failed step keeps its work folder for inspection and says where.
    expect(report.keptAt).to.be.a('string')
    rmSync(report.keptAt ?? '', {recursive: true, force: true})
  })

  it('says in its first line that the graph step is off when NEO4J_URI is not set', async () => {
    const small = join(tmp.dir, 'small')
    writeSmallCorpus(small, 6)
    const {stdout, error} = await run(['--corpus', small, '--steps', 'parse-cache'], {NEO4J_URI: undefined})
    expect(error).to.equal(undefined)
    expect(stdout.split('\n')[0]).to.match(/^graph step is OFF: NEO4J_URI is not set/)
    expect(stdout).to.match(/parse-cache .* yes/)
  })
})
