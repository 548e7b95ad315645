import {mkdirSync, writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'

import {expect} from 'chai'

import {measureCeiling} from '../../src/bench/ceiling.js'
import {canonicalJson, compareDigests, digestOutput, pathOfStatement} from '../../src/bench/graph.js'
import {
  judge,
  percentile,
  summarizeCeiling,
  summarizeStep,
  unsettled,
  type StepMeasure,
} from '../../src/bench/report.js'
import {BENCH_STEPS, selectSteps, stepConfigs} from '../../src/bench/steps.js'
import {
  BURST_SPREAD_MS,
  describeWorkload,
  editSql,
  finalState,
  loadCorpus,
  planBurst,
  type BurstPlan,
} from '../../src/bench/workload.js'
import {isLineageError} from '../../src/core/errors.js'
import {emptyStats} from '../../src/core/ingest/ingestor.js'
import type {LedgerRow} from '../../src/core/ingest/ledger.js'
import {tmpDir} from '../helpers/tmp.js'

const files = (n: number) =>
  Array.from({length: n}, (_, i) => ({
    relPath: `f${i}.sql`,
    content: Buffer.from(`INSERT INTO a.t${i} SELECT x FROM b.s;`),
  }))

const kindsOf = (plan: BurstPlan) => {
  const byPath = new Map<string, Set<string>>()
  for (const a of plan.actions) byPath.set(a.relPath, (byPath.get(a.relPath) ?? new Set()).add(a.kind))
  return byPath
}

describe('bench workload', () => {
  it('plans the same burst for the same seed, and another for another seed', () => {
    const corpus = files(400)
    const a = planBurst(corpus, 42)
    expect(planBurst(corpus, 42)).to.deep.equal(a)
    expect(planBurst(corpus, 43).actions.map((x) => x.relPath)).not.to.deep.equal(a.actions.map((x) => x.relPath))
  })

  it('touches disjoint sets of files in the documented shares, in time order, within the spread', () => {
    const plan = planBurst(files(2000), 7)
    expect(plan.files).to.deep.equal({resave: 100, edit: 100, rapid: 50, delete: 40})
    const byPath = kindsOf(plan)
    expect(byPath.size).to.equal(290)
    for (const kinds of byPath.values()) expect(kinds.size).to.equal(1)
    const times = plan.actions.map((a) => a.atMs)
    expect(times).to.deep.equal([...times].sort((x, y) => x - y))
    const starts = new Map<string, number>()
    for (const a of plan.actions) if (!starts.has(a.relPath)) starts.set(a.relPath, a.atMs)
    for (const t of starts.values()) expect(t).to.be.within(0, BURST_SPREAD_MS)
    expect(plan.actions).to.have.length(100 + 100 + plan.rapidSaves + 40)
  })

  it('saves rapid files 3 to 5 times, 40 to 120 ms apart; some end undone', () => {
    const corpus = files(2000)
    const plan = planBurst(corpus, 1)
    const rapid = new Map<string, number[]>()
    for (const a of plan.actions.filter((x) => x.kind === 'rapid')) {
      rapid.set(a.relPath, [...(rapid.get(a.relPath) ?? []), a.atMs])
    }
    for (const times of rapid.values()) {
      expect(times.length).to.be.within(3, 5)
      for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).to.be.within(40, 120)
    }
    const state = finalState(corpus, plan)
    const original = new Map(corpus.map((f) => [f.relPath, f.content]))
    const undone = [...rapid.keys()].filter((p) => state.get(p)?.equals(original.get(p) ?? Buffer.alloc(0)))
    expect(undone).to.have.length(plan.rapidUndone)
    expect(plan.rapidUndone).to.be.greaterThan(0)
  })

  it('ends with deleted files gone, edited files changed and re-saved files as they were', () => {
    const corpus = files(100)
    const plan = planBurst(corpus, 3)
    const state = finalState(corpus, plan)
    const original = new Map(corpus.map((f) => [f.relPath, f.content.toString()]))
    for (const [path, kinds] of kindsOf(plan)) {
      const now = state.get(path)
      if (kinds.has('delete')) expect(now).to.equal(null)
      if (kinds.has('resave')) expect(now?.toString()).to.equal(original.get(path))
      if (kinds.has('edit')) expect(now?.toString()).to.match(/INSERT INTO mart\.bench_edit_/)
    }
    expect(state.size).to.equal(100)
    expect(describeWorkload(corpus, plan)).to.match(/100 files .* 5 re-saved unchanged, 5 edited, 3 saved \d+ times/)
  })

  it('plans no burst for a corpus too small to split, and at least one file per kind otherwise', () => {
    expect(planBurst(files(3), 1).actions).to.deep.equal([])
    expect(planBurst(files(4), 1).files).to.deep.equal({resave: 1, edit: 1, rapid: 1, delete: 1})
  })

  it('edits change the lineage: a statement reading a table of the file is appended', () => {
    const edited = editSql('INSERT INTO x.y SELECT a FROM raw.orders o;', 'f.sql v2')
    expect(edited).to.match(/^-- edited \(f\.sql v2\)/)
    expect(edited).to.include(
      'INSERT INTO mart.bench_edit_f_sql_v2 (id, amount)\nSELECT s.id, s.amount FROM raw.orders s',
    )
  })

  it('loads a generated corpus deterministically, and the SQL files of a folder sorted by path', () => {
    expect(loadCorpus({files: 3, seed: 9})).to.deep.equal(loadCorpus({files: 3, seed: 9}))
    const tmp = tmpDir()
    try {
      mkdirSync(join(tmp.dir, 'b'))
      writeFileSync(join(tmp.dir, 'b', 'two.sql'), 'SELECT 2')
      writeFileSync(join(tmp.dir, 'a.sql'), 'SELECT 1')
      writeFileSync(join(tmp.dir, 'notes.txt'), 'not sql')
      expect(loadCorpus({dir: tmp.dir, extensions: ['.sql']}).map((f) => f.relPath)).to.deep.equal([
        'a.sql',
        'b/two.sql',
      ])
    } finally {
      tmp.remove()
    }
  })
})

describe('bench steps', () => {
  it('adds the features one at a time in the runbook order, each with its default tuning, then all on', () => {
    const steps = stepConfigs()
    expect(steps.map((s) => s.name)).to.deep.equal([...BENCH_STEPS])
    const on = steps.map((s) =>
      Object.entries(s.features)
        .filter(([, v]) => v)
        .map(([k]) => k),
    )
    expect(on).to.deep.equal([
      [],
      ['parse-cache'],
      ['parse-cache', 'batching'],
      ['parse-cache', 'batching', 'neo4j-batch'],
      ['parse-cache', 'batching', 'neo4j-batch', 'parallel'],
      ['parse-cache', 'batching', 'neo4j-batch', 'parallel', 'metrics'],
    ])
    // INGEST_WORKERS defaults to `auto`: the available parallelism, capped at the runbook's 4.
    const auto = Math.min(availableParallelism(), 4)
    expect(steps.map((s) => [s.workers, s.batchSize, s.debounceSeconds])).to.deep.equal([
      [1, 1, 0],
      [1, 1, 0],
      [1, 50, 5],
      [1, 50, 5],
      [auto, 50, 5],
      [auto, 50, 5],
    ])
    expect(steps[0]?.summary).to.equal('all features off, 1 worker, batch 1, no debounce')
  })

  it('always runs the baseline first, keeps the fixed order, and refuses unknown steps with a usage error', () => {
    expect(selectSteps(['all-on', 'parse-cache']).map((s) => s.name)).to.deep.equal([
      'baseline',
      'parse-cache',
      'all-on',
    ])
    expect(selectSteps(undefined)).to.have.length(6)
    try {
      selectSteps(['turbo'])
      expect.fail('expected a usage error')
    } catch (error) {
      expect(isLineageError(error) && error.exit).to.equal(64)
    }
  })
})

describe('bench report maths', () => {
  const measure = (
    seconds: number,
    patch: Partial<StepMeasure['stats']> = {},
    latenciesMs: number[] = [],
  ): StepMeasure => ({
    seconds,
    initialSeconds: seconds * 0.8,
    burstSeconds: seconds * 0.2,
    cpuSeconds: 12.345,
    neo4jCpuSeconds: null,
    peakRssBytes: 300 * 1024 * 1024,
    stats: {...emptyStats(), ...patch},
    latenciesMs,
    parsedInPool: 0,
    parsedInline: 0,
  })

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).to.equal(0)
    expect(percentile([5], 95)).to.equal(5)
    const values = Array.from({length: 100}, (_, i) => 100 - i)
    expect(percentile(values, 50)).to.equal(50)
    expect(percentile(values, 95)).to.equal(95)
    expect(percentile([1, 2, 3, 4], 50)).to.equal(2)
  })

  it('computes throughput, speedup against the baseline and the cache hit rate', () => {
    const [baseline, cache] = stepConfigs()
    if (!baseline || !cache) throw new Error('no steps')
    const base = summarizeStep(baseline, measure(600, {}, [10, 20, 30]), 1200, undefined)
    expect(base).to.include({filesPerMinute: 120, speedup: 1, cacheHitRate: null, p50Ms: 20, matchesBaseline: null})
    const fast = summarizeStep(cache, measure(40, {cacheHits: 1, cacheMisses: 3, transactions: 9}), 1200, 600)
    expect(fast).to.include({filesPerMinute: 1800, speedup: 15, cacheHitRate: 0.25, transactions: 9, peakRssMb: 300})
    expect(fast.cpuSeconds).to.equal(12.35)
  })

  it("gives the initial ingest's files per second and its share of the parse ceiling", () => {
    const [baseline] = stepConfigs()
    if (!baseline) throw new Error('no steps')
    // 100 files in an initial ingest of 8 s (0.8 of 10 s): 12.5 files/s, against a ceiling of 50 files/s.
    const ceiling = {threads: 2, files: 100, seconds: 2.00049, filesPerSecond: 49.98776}
    const step = summarizeStep(baseline, measure(10), 120, undefined, {files: 100, ceiling})
    expect(step).to.include({initialFilesPerSecond: 12.5, ceilingRatio: 0.25})
    expect(summarizeCeiling(ceiling)).to.deep.equal({threads: 2, files: 100, seconds: 2, filesPerSecond: 50})
    expect(summarizeStep(baseline, measure(10), 120, undefined).ceilingRatio).to.equal(null)
  })

  it("gives Neo4j's CPU per file ingested or removed, when the server reports its CPU", () => {
    const [baseline] = stepConfigs()
    if (!baseline) throw new Error('no steps')
    const withNeo4j = {...measure(10, {files: 95, removed: 5}), neo4jCpuSeconds: 2.5}
    expect(summarizeStep(baseline, withNeo4j, 100, undefined).neo4jCpuMsPerFile).to.equal(25)
    expect(summarizeStep(baseline, measure(10, {files: 95}), 100, undefined).neo4jCpuMsPerFile).to.equal(null)
  })

  it('fails a step that differs and an all-on speedup under the minimum', () => {
    const [baseline, cache] = stepConfigs()
    if (!baseline || !cache) throw new Error('no steps')
    const wrong = {...summarizeStep(cache, measure(10), 10, 100), matchesBaseline: false, differences: ['graph: x']}
    expect(judge([wrong], 9.5, 10)).to.deep.equal([
      'step parse-cache differs from the baseline: graph: x',
      'all-on is 9.5x the baseline, below --min-speedup 10: a performance regression',
    ])
    expect(judge([summarizeStep(baseline, measure(1), 1, undefined)], 12, 10)).to.deep.equal([])
  })

  it('counts a file settled only when its ledger row shows its last write', () => {
    const row = (path: string, patch: Partial<LedgerRow> = {}): [string, LedgerRow] => [
      path,
      {path, size: 10, mtimeMs: 5.5, contentHash: 'h', graph: 'written', updatedAt: '', ...patch},
    ]
    const expected = new Map([
      ['a.sql', {size: 10, mtimeMs: 5.5, contentHash: 'h'}],
      ['b.sql', {size: 10, mtimeMs: 5.5, contentHash: 'h'}],
      ['c.sql', {size: 10, mtimeMs: 5.5, contentHash: 'h'}],
    ])
    const rows = new Map([row('a.sql'), row('b.sql', {mtimeMs: 4}), row('c.sql', {contentHash: 'old'}), row('d.sql')])
    expect(unsettled(expected, ['d.sql', 'e.sql'], rows)).to.deep.equal(['b.sql', 'c.sql', 'd.sql'])
  })
})

describe('bench comparisons', () => {
  it('canonical JSON ignores key order and volatile keys, not array order', () => {
    expect(canonicalJson({b: 1, a: {d: [2, 1], c: 3}, ingestedAt: 'x'}, ['ingestedAt'])).to.equal(
      '{"a":{"c":3,"d":[2,1]},"b":1}',
    )
    expect(pathOfStatement('jobs/a#b.sql#12')).to.equal('jobs/a#b.sql')
  })

  it('says which output files differ, are missing or are extra', () => {
    const tmp = tmpDir()
    try {
      const write = (dir: string, rel: string, body: unknown) => {
        mkdirSync(join(tmp.dir, dir, rel, '..'), {recursive: true})
        writeFileSync(join(tmp.dir, dir, `${rel}.lineage.json`), JSON.stringify(body))
      }
      write('a', 'x.sql', {path: 'x.sql', ingestedAt: '1', lineage: {targets: ['t']}})
      write('b', 'x.sql', {lineage: {targets: ['t']}, ingestedAt: '2', path: 'x.sql'})
      write('a', 'y/z.sql', {n: 1})
      write('b', 'y/z.sql', {n: 2})
      write('a', 'gone.sql', {})
      write('b', 'new.sql', {})
      const diff = compareDigests(digestOutput(join(tmp.dir, 'b')), digestOutput(join(tmp.dir, 'a')), 'output')
      expect(diff).to.deep.equal([
        'output files missing: gone.sql',
        'output files not in the baseline: new.sql',
        'output files that differ: y/z.sql',
      ])
      expect(
        compareDigests(digestOutput(join(tmp.dir, 'a')), digestOutput(join(tmp.dir, 'a')), 'output'),
      ).to.deep.equal([])
    } finally {
      tmp.remove()
    }
  })
})

describe('bench parse ceiling', function () {
  // Worker threads load tsx and the grammars first (from the sources here, as under bin/dev.js).
  this.timeout(60_000)

  it('extracts every file of the corpus once, across the threads, and times it', async () => {
    const corpus = files(40)
    const ceiling = await measureCeiling(corpus, {dialect: 'ansi', threads: 2})
    expect(ceiling).to.include({threads: 2, files: 40, statements: 40})
    expect(ceiling.seconds).to.be.greaterThan(0)
    expect(ceiling.filesPerSecond).to.be.closeTo(40 / ceiling.seconds, 1e-6)
  })

  it('stops with E_INTERRUPTED (130) when the signal aborts', async () => {
    const abort = new AbortController()
    abort.abort()
    try {
      await measureCeiling(files(5), {dialect: 'ansi', threads: 1, signal: abort.signal})
      expect.fail('expected an interruption')
    } catch (error) {
      expect(isLineageError(error) && error.exit).to.equal(130)
    }
  })
})
