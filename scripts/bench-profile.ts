/**
 * bench:profile: one configuration of `lineage bench` on its workload, alone (no baseline, no comparison),
 * so that a profiler sees only it. See docs/performance.md.
 *
 *   npx tsc -p tsconfig.build.json        # the built pipeline: workers then run plain JavaScript
 *   NEO4J_URI=bolt://127.0.0.1:7687 node --cpu-prof --cpu-prof-dir=prof --import tsx \
 *     scripts/bench-profile.ts --files 2000 --step all-on [--clear-graph]
 *   npx tsx scripts/cpuprofile-summary.ts prof
 *
 * Prints the step's report row as JSON. Uses dist/ when it has been built, else the sources. Like the bench
 * it deletes everything in the graph first, so it refuses a graph that is not empty unless --clear-graph.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

type Core = typeof import('../src/core/index.js') &
  typeof import('../src/bench/bench.js') &
  typeof import('../src/bench/graph.js') &
  typeof import('../src/bench/report.js') &
  typeof import('../src/bench/steps.js') &
  typeof import('../src/bench/workload.js')

const {values} = parseArgs({
  options: {
    files: {type: 'string', default: '2000'},
    seed: {type: 'string', default: '42'},
    step: {type: 'string', default: 'all-on'},
    'clear-graph': {type: 'boolean', default: false},
  },
})

const built = existsSync(new URL('../dist/bench/bench.js', import.meta.url))
const base = new URL(built ? '../dist/' : '../src/', import.meta.url)
const modules = ['core/index', 'bench/bench', 'bench/graph', 'bench/report', 'bench/steps', 'bench/workload']
const loaded = (await Promise.all(modules.map((m) => import(new URL(`${m}.js`, base).href)))) as object[]
const core = Object.assign({}, ...loaded) as Core

const logger = core.createLogger({level: 'info', stream: process.stderr})
const config = core.stepConfigs().find((c) => c.name === values.step)
if (!config) throw new Error(`unknown step ${values.step}; steps are ${core.BENCH_STEPS.join(', ')}`)
const seed = Number(values.seed)
const corpus = {files: Number(values.files), seed}
const files = core.loadCorpus(corpus)
const plan = core.planBurst(files, seed)
const settings = core.resolveSettings({})
const graph = settings.neo4j ? await core.BenchGraph.open(settings.neo4j, logger) : undefined
if (graph && (await graph.nodeCount()) > 0 && !values['clear-graph']) {
  await graph.close()
  throw new Error('the graph is not empty: point NEO4J_URI at a scratch database, or pass --clear-graph')
}
logger.info(`${built ? 'dist' : 'src'}: ${config.name} (${config.summary}); ${core.describeWorkload(files, plan)}`)
const dir = mkdtempSync(join(tmpdir(), 'lineage-bench-profile-'))
try {
  await graph?.clear()
  const options = {corpus, seed, settings: {}, clearGraph: true, keep: false, logger}
  const run = await core.runStep(config, dir, files, plan, graph, options)
  const row = core.summarizeStep(config, run.measure, files.length + plan.actions.length, undefined)
  console.log(JSON.stringify(row, null, 2))
} finally {
  await graph?.clear()
  await graph?.close()
  rmSync(dir, {recursive: true, force: true})
}
