/**
 * How long each file of the generated bench corpus takes to parse in the worker pool, without a time limit:
 * the measurement behind the default LINEAGE_PARSE_TIMEOUT_SECONDS (docs/performance.md, "Parse time limit").
 * Prints the wall time, the five slowest files and the median, as JSON. Run it idle and under load.
 *
 *   npx tsx scripts/parse-times.ts [--files 300] [--workers 2]
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {writeCorpus} from '../src/bench/corpus.js'
import {silentLogger} from '../src/core/logger.js'
import {WorkerPool} from '../src/core/ingest/worker-pool.js'

const {values} = parseArgs({
  options: {files: {type: 'string', default: '300'}, workers: {type: 'string', default: '2'}},
})
const dir = mkdtempSync(join(tmpdir(), 'lineage-parse-times-'))
try {
  const files = writeCorpus(join(dir, 'raw'), {files: Number(values.files), seed: 42})
  const workers = Number(values.workers)
  const pool = new WorkerPool({
    size: workers,
    dialect: 'ansi',
    timeoutMs: 3_600_000,
    statementBudgetMs: 3_600_000,
    workerMaxMb: 512,
    cacheFile: join(dir, 'cache.sqlite'),
    logger: silentLogger,
  })
  const loadBefore = loadavg()[0]
  const started = performance.now()
  const results = await Promise.all(
    files.map((f) =>
      pool.run(
        {
          absPath: join(dir, 'raw', f.relPath),
          relPath: f.relPath,
          dialect: 'ansi',
          maxBytes: 16 * 1024 * 1024,
          deadlineMs: 3_600_000,
        },
        false,
      ),
    ),
  )
  const wallMs = Math.round(performance.now() - started)
  await pool.close()
  const times = results
    .map((r) => ({file: r.relPath, ms: r.kind === 'parsed' ? Math.round(r.parseMs) : -1}))
    .sort((a, b) => b.ms - a.ms)
  const load = [loadBefore, loadavg()[0]].map((l) => Number(l?.toFixed(2)))
  const median = times[Math.floor(times.length / 2)]?.ms
  console.log(JSON.stringify({files: files.length, workers, load, wallMs, slowest: times.slice(0, 5), median}))
} finally {
  rmSync(dir, {recursive: true, force: true})
}
