/**
 * bench:compare: the extractor on the bench corpus (src/bench/corpus.ts) with its fast path off (the
 * grammars only) and on, in one process, one thread, the two alternating file by file so that both see the
 * same machine load; and whether the two give the same lineage for every file.
 *
 *   npm run bench:compare -- [--files 300] [--seed 42] [--dialect ansi] [--rounds 2] [--json]
 *
 * Throughput is MB per CPU-second of this process (user + system) spent in each mode. Exits 1 when a
 * file's lineage differs between the two modes.
 */
import {isDeepStrictEqual, parseArgs} from 'node:util'

import {generateCorpus} from '../src/bench/corpus.js'
import {fastPathCounts} from '../src/core/sql/fast-path.js'
import {extractLineage, type FileLineage} from '../src/core/sql/index.js'

const {values} = parseArgs({
  options: {
    files: {type: 'string', default: '300'},
    seed: {type: 'string', default: '42'},
    dialect: {type: 'string', default: 'ansi'},
    rounds: {type: 'string', default: '2'},
    json: {type: 'boolean', default: false},
  },
})
const dialect = values.dialect
const corpus = generateCorpus({files: Number(values.files), seed: Number(values.seed)})
const rounds = Number(values.rounds)

const cpu = {off: 0, on: 0}
function run(sql: string, fastPath: boolean): FileLineage {
  const t0 = process.cpuUsage()
  const f = extractLineage(sql, {path: 'bench.sql', dialect, fastPath})
  const used = process.cpuUsage(t0)
  cpu[fastPath ? 'on' : 'off'] += (used.user + used.system) / 1e6
  return f
}

// Warm-up: grammar loading and JIT, in both modes, not counted.
for (const file of corpus.slice(0, 10)) {
  run(file.sql, false)
  run(file.sql, true)
}
cpu.off = 0
cpu.on = 0

let bytes = 0
let different = 0
/** Queries the fast path took and declined in one pass over the corpus. */
const queries = {taken: 0, declined: 0}
for (let r = 0; r < rounds; r++) {
  for (const [k, file] of corpus.entries()) {
    bytes += Buffer.byteLength(file.sql)
    // Alternate which mode goes first, so that neither always runs on caches the other warmed.
    const onFirst = (k + r) % 2 === 0
    const before = {...fastPathCounts}
    const a = run(file.sql, onFirst)
    const b = run(file.sql, !onFirst)
    if (r === 0) {
      queries.taken += fastPathCounts.taken - before.taken
      queries.declined += fastPathCounts.declined - before.declined
    }
    if (!isDeepStrictEqual(a, b)) {
      different++
      if (r === 0) console.error(`lineage differs with and without the fast path: ${file.relPath}`)
    }
  }
}

const mb = bytes / 1e6
const result = {
  dialect,
  files: corpus.length,
  rounds,
  megabytes: mb,
  grammarsOnly: {cpuSeconds: cpu.off, megabytesPerCpuSecond: mb / cpu.off},
  fastPath: {cpuSeconds: cpu.on, megabytesPerCpuSecond: mb / cpu.on},
  speedup: cpu.off / cpu.on,
  queries,
  differentFiles: different,
}

if (values.json) console.log(JSON.stringify(result, null, 2))
else {
  const f = (x: number, d = 2): string => x.toFixed(d)
  console.log(
    `corpus: ${corpus.length} files x ${rounds} rounds, ${f(mb)} MB (seed ${values.seed}, dialect ${dialect})`,
  )
  console.log(`grammars only: ${f(cpu.off)} CPU-s -> ${f(result.grammarsOnly.megabytesPerCpuSecond)} MB per CPU-second`)
  console.log(`fast path on:  ${f(cpu.on)} CPU-s -> ${f(result.fastPath.megabytesPerCpuSecond)} MB per CPU-second`)
  console.log(`speed-up: ${f(result.speedup)}x; files whose lineage differs: ${different}`)
  const share = (100 * queries.taken) / Math.max(1, queries.taken + queries.declined)
  console.log(
    `queries per pass: ${queries.taken} read by the fast path, ${queries.declined} left to the grammars (${f(share, 1)}% taken)`,
  )
}
process.exitCode = different > 0 ? 1 : 0
