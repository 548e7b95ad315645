/**
 * bench:parse: throughput of the SQL lineage extractor on the generated warehouse corpus
 * (src/bench/corpus.ts), on one thread, and evidence that the cost of a file stays linear in its size:
 * ms per KB by file-size bucket, and the same N statements parsed as files of N, 2N, 4N and 8N statements.
 *
 *   npm run bench:parse -- [--files 300] [--seed 42] [--dialect ansi] [--json]
 *
 * Throughput is given per wall-clock second and per CPU-second of this process (user + system, which
 * includes the garbage collector's helper threads): on a shared machine the CPU figure is the stable one.
 *
 * Exits 1 when the per-statement cost at 8N is more than 1.5 times that at N (quadratic behaviour).
 */
import {parseArgs} from 'node:util'

import {generateCorpus} from '../src/bench/corpus.js'
import {extractLineage} from '../src/core/sql/index.js'

const {values} = parseArgs({
  options: {
    files: {type: 'string', default: '300'},
    seed: {type: 'string', default: '42'},
    dialect: {type: 'string', default: 'ansi'},
    json: {type: 'boolean', default: false},
  },
})
const dialect = values.dialect
const corpus = generateCorpus({files: Number(values.files), seed: Number(values.seed)})

function timeIt(sql: string): number {
  const t0 = performance.now()
  extractLineage(sql, {path: 'bench.sql', dialect})
  return performance.now() - t0
}

/** CPU milliseconds of one extraction: steadier than the wall clock on a shared machine. */
function cpuTimeIt(sql: string): number {
  const t0 = process.cpuUsage()
  extractLineage(sql, {path: 'bench.sql', dialect})
  const used = process.cpuUsage(t0)
  return (used.user + used.system) / 1000
}

// Cold start: the first parse loads the grammar build.
const cold = timeIt(corpus[0]?.sql ?? 'SELECT 1')

const buckets = [
  {label: '< 8 KB', max: 8 * 1024},
  {label: '8-32 KB', max: 32 * 1024},
  {label: '32-128 KB', max: 128 * 1024},
  {label: '>= 128 KB', max: Infinity},
].map((b) => ({...b, files: 0, bytes: 0, ms: 0}))

let totalMs = 0
let totalBytes = 0
let statements = 0
const cpuStart = process.cpuUsage()
for (const file of corpus) {
  const bytes = Buffer.byteLength(file.sql)
  const ms = timeIt(file.sql)
  totalMs += ms
  totalBytes += bytes
  statements += file.statements
  const bucket = buckets.find((b) => bytes < b.max)
  if (bucket) {
    bucket.files++
    bucket.bytes += bytes
    bucket.ms += ms
  }
}

const cpuUsed = process.cpuUsage(cpuStart)
const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6

// Scaling: the same N statements, as files of N, 2N, 4N and 8N statements (k copies of them, so that the
// mix of statement kinds, whose costs differ tenfold between the fast path and the grammars, is the same).
const pool = corpus.flatMap((f) => f.sql.split(/;\n/).filter((s) => s.trim().length > 0))
const n = 64
const scaling = [1, 2, 4, 8].map((k) => {
  const sql = Array.from({length: k}, () => pool.slice(0, n).join(';\n')).join(';\n')
  cpuTimeIt(sql) // warm
  let ms = Infinity
  for (let i = 0; i < 5; i++) ms = Math.min(ms, cpuTimeIt(sql))
  return {statements: n * k, kb: Buffer.byteLength(sql) / 1024, ms, msPerStatement: ms / (n * k)}
})
const first = scaling[0]?.msPerStatement ?? 1
const last = scaling[scaling.length - 1]?.msPerStatement ?? 1
const ratio = last / first

const result = {
  dialect,
  files: corpus.length,
  megabytes: totalBytes / 1e6,
  statements,
  seconds: totalMs / 1000,
  filesPerSecond: corpus.length / (totalMs / 1000),
  megabytesPerSecond: totalBytes / 1e6 / (totalMs / 1000),
  cpuSeconds,
  megabytesPerCpuSecond: totalBytes / 1e6 / cpuSeconds,
  statementsPerSecond: statements / (totalMs / 1000),
  coldStartMs: cold,
  buckets: buckets
    .filter((b) => b.files > 0)
    .map((b) => ({size: b.label, files: b.files, msPerKb: b.ms / (b.bytes / 1024)})),
  scaling,
  costRatio8NvsN: ratio,
  linear: ratio <= 1.5,
}

if (values.json) console.log(JSON.stringify(result, null, 2))
else {
  const f = (x: number, d = 1): string => x.toFixed(d)
  console.log(
    `corpus: ${result.files} files, ${f(result.megabytes, 2)} MB, ${statements} statements (seed ${values.seed}, dialect ${dialect})`,
  )
  console.log(
    `throughput (1 thread): ${f(result.filesPerSecond)} files/s, ${f(result.megabytesPerSecond, 2)} MB/s, ${f(result.statementsPerSecond)} statements/s`,
  )
  console.log(`CPU: ${f(cpuSeconds, 2)} s -> ${f(result.megabytesPerCpuSecond, 2)} MB per CPU-second`)
  console.log(`cold start (grammar load + first file): ${f(cold)} ms`)
  console.log('cost by file size:')
  for (const b of result.buckets)
    console.log(`  ${b.size.padEnd(10)} ${String(b.files).padStart(5)} files  ${f(b.msPerKb, 3)} ms/KB`)
  console.log('same statements, longer files (CPU time):')
  for (const s of scaling)
    console.log(
      `  ${String(s.statements).padStart(4)} statements  ${f(s.kb).padStart(7)} KB  ${f(s.ms).padStart(8)} ms  ${f(s.msPerStatement, 2)} ms/statement`,
    )
  console.log(`cost per statement at 8N vs N: ${f(ratio, 2)}x -> ${result.linear ? 'linear' : 'NOT linear'}`)
}
process.exitCode = result.linear ? 0 : 1
