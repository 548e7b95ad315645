/**
 * bench:trace: how long `lineage trace` takes on the embedded default (no Neo4j), where it reads the whole
 * output folder, at the scale of 10,000 files (goal: under 2 s).
 *
 *   npm run build && npm run bench:trace -- [--files 10000] [--distinct 400] [--runs 5] [--json]
 *
 * Parses `--distinct` files of the generated warehouse corpus (src/bench/corpus.ts), then writes `--files`
 * output records as the service does, copy k of a file with its tables renamed `<name>_k`, so the graph grows
 * with the folder. Measures the first load, which builds the SQLite index from every record, then, median of
 * `--runs` with one record rewritten before each: loading the folder in-process (OutputGraph.load: list, stat,
 * re-read what changed), one trace both ways through it, and the whole CLI as a user runs it
 * (`node bin/run.js trace ... --out DIR`, start-up included). Exits 1 when the CLI median is 2 s or more.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {parseArgs} from 'node:util'

import {generateCorpus} from '../src/bench/corpus.js'
import type {FileLineage} from '../src/core/index.js'
import {outputFileFor, writeOutputRecord} from '../src/core/ingest/file-task.js'
import {OutputGraph} from '../src/core/query/out-graph.js'
import {trace} from '../src/core/query/trace.js'
import {extractLineage} from '../src/core/sql/index.js'

const {values} = parseArgs({
  options: {
    files: {type: 'string', default: '10000'},
    distinct: {type: 'string', default: '400'},
    runs: {type: 'string', default: '5'},
    json: {type: 'boolean', default: false},
  },
})
const files = Number(values.files)
const runs = Number(values.runs)
const corpus = generateCorpus({files: Number(values.distinct), seed: 42})
const parsed = corpus.map((f) => extractLineage(f.sql, {path: f.relPath, dialect: 'ansi'}))

const rename = (name: string, k: number): string => (k === 0 || name === '?' ? name : `${name}__copy${k}`)
const renameColumn = (qualified: string, k: number): string => {
  const dot = qualified.lastIndexOf('.')
  return dot <= 0 ? qualified : `${rename(qualified.slice(0, dot), k)}${qualified.slice(dot)}`
}
function copyOf(lineage: FileLineage, path: string, k: number): FileLineage {
  return {
    ...lineage,
    path,
    sources: lineage.sources.map((n) => rename(n, k)),
    targets: lineage.targets.map((n) => rename(n, k)),
    statements: lineage.statements.map((s) => ({
      ...s,
      sources: s.sources.map((n) => rename(n, k)),
      targets: s.targets.map((n) => rename(n, k)),
      columns: s.columns.map((c) => ({
        ...c,
        target: renameColumn(c.target, k),
        sources: c.sources.map((n) => renameColumn(n, k)),
      })),
    })),
  }
}

const root = mkdtempSync(join(tmpdir(), 'lineage-bench-trace-'))
const dir = join(root, 'out')
const cacheFile = join(root, 'cache', 'parse-cache.sqlite')
const indexFile = join(root, 'cache', 'trace-index.sqlite')
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
try {
  let bytes = 0
  for (let i = 0; i < files; i++) {
    const source = parsed[i % parsed.length]
    if (!source) continue
    const k = Math.floor(i / parsed.length)
    const path = `copy${k}/${source.path}`
    const file = outputFileFor(dir, path)
    mkdirSync(dirname(file), {recursive: true})
    const lineage = copyOf(source, path, k)
    writeOutputRecord(file, {contentHash: `bench-${i}`, size: 0, lineage})
    bytes += JSON.stringify(lineage).length
  }
  // Trace the table with the most upstream edges in the first copy: a deep, wide walk.
  let t0 = performance.now()
  const probe = OutputGraph.load(dir, {indexFile})
  const buildMs = performance.now() - t0
  const candidates = (await probe.names('table')).filter((n) => !/__copy\d+$/.test(n))
  let name = candidates[0] ?? ''
  let most = -1
  for (const n of candidates.slice(0, 300)) {
    const edges = (await trace(probe, {name: n, direction: 'upstream'})).upstream?.length ?? 0
    if (edges > most) [name, most] = [n, edges]
  }
  await probe.close()
  const load: number[] = []
  const walk: number[] = []
  const cli: number[] = []
  for (let r = 0; r < runs; r++) {
    // One record rewritten between runs, as a running service would: the index re-reads just that one.
    const first = parsed[0]
    if (first)
      writeOutputRecord(outputFileFor(dir, `copy0/${first.path}`), {contentHash: `r${r}`, size: r, lineage: first})
    t0 = performance.now()
    const graph = OutputGraph.load(dir, {indexFile})
    load.push(performance.now() - t0)
    t0 = performance.now()
    await trace(graph, {name, direction: 'both'})
    walk.push(performance.now() - t0)
    await graph.close()
    t0 = performance.now()
    execFileSync(process.execPath, ['bin/run.js', 'trace', name, '--both', '--out', dir, '--json'], {
      env: {...process.env, NEO4J_URI: '', LINEAGE_CACHE_FILE: cacheFile},
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    cli.push(performance.now() - t0)
  }
  const result = {
    files,
    megabytes: Math.round(bytes / 1e5) / 10,
    traced: name,
    upstreamEdges: most,
    indexBuildMs: Math.round(buildMs),
    loadMs: Math.round(median(load)),
    traceMs: Math.round(median(walk)),
    cliMs: Math.round(median(cli)),
    runs,
  }
  if (values.json) console.log(JSON.stringify(result))
  else {
    console.log(`${files} output records (${result.megabytes} MB of lineage), tracing ${name} (${most} upstream edges)`)
    console.log(`first run (index built from every record): ${result.indexBuildMs} ms`)
    console.log(
      `then, one record changed each run: load ${result.loadMs} ms, trace ${result.traceMs} ms, CLI end to end ${result.cliMs} ms (median of ${runs})`,
    )
  }
  if (result.cliMs >= 2000) process.exitCode = 1
} finally {
  if (process.env.KEEP === undefined) rmSync(root, {recursive: true, force: true})
  else console.log(root)
}
