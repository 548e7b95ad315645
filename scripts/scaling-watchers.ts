/**
 * scaling:watchers: N watchers (separate processes, separate raw folders, state and caches) ingesting at once
 * into one Neo4j, as docs/scaling.md describes: throughput and the driver's transaction retries (deadlocks
 * and other transient errors) for each N. Every watcher gets the same generated corpus (same seed, so the
 * same tables: the contention of repositories that share tables) under its own path prefix `wN/`, since
 * namespaces are not built yet. Retries are the writer's own count: the debug line it logs for each retry.
 * A warm-up run (one watcher, not reported) first, so N=1 does not pay Neo4j's query compilation.
 *
 *   npm run build && bash scripts/neo4j-test-server.sh run -- \
 *     npx tsx scripts/scaling-watchers.ts [--files 200] [--watchers 1,2,4] [--workers 1] [--json]
 *
 * Needs NEO4J_URI (the test server's run exports it); the graph is emptied before each N.
 */
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {parseArgs} from 'node:util'

import {execa} from 'execa'
import neo4j from 'neo4j-driver'

import {isolatedFolders} from '../src/bench/bench.js'
import {writeCorpus} from '../src/bench/corpus.js'

const {values} = parseArgs({
  options: {
    files: {type: 'string', default: '200'},
    watchers: {type: 'string', default: '1,2,4'},
    workers: {type: 'string', default: '1'},
    json: {type: 'boolean', default: false},
  },
})
const uri = process.env.NEO4J_URI
if (!uri) throw new Error('NEO4J_URI is not set: run under scripts/neo4j-test-server.sh run --')
const files = Number(values.files)
const counts = values.watchers.split(',').map(Number)
const bin = resolve('bin/run.js')

interface Row {
  watchers: number
  files: number
  seconds: number
  filesPerSecond: number
  transactions: number
  retries: number
  graphFailures: number
  nodes: number
}

const driver = neo4j.driver(
  uri,
  process.env.NEO4J_PASSWORD
    ? neo4j.auth.basic(process.env.NEO4J_USER ?? 'neo4j', process.env.NEO4J_PASSWORD)
    : {scheme: 'none', credentials: ''},
)
/** An auto-commit query (CALL ... IN TRANSACTIONS needs one); returns the first value. */
async function cypher(query: string): Promise<number> {
  const session = driver.session()
  try {
    const {records} = await session.run(query)
    return Number(records[0]?.get(0) ?? 0)
  } finally {
    await session.close()
  }
}

const rows: Row[] = []
const work = mkdtempSync(join(tmpdir(), 'lineage-scaling-'))
try {
  for (const entry of [0, ...counts]) {
    const warmUp = entry === 0
    const n = warmUp ? 1 : entry
    await cypher('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS')
    const envs = Array.from({length: n}, (_, i) => {
      const dir = join(work, warmUp ? 'warm-up' : `n${n}`, `w${i + 1}`)
      const folders = isolatedFolders(dir)
      const raw = folders.LINEAGE_RAW_DIR ?? join(dir, 'raw')
      mkdirSync(raw, {recursive: true})
      writeCorpus(join(raw, `w${i + 1}`), {files, seed: 42})
      return {
        ...process.env,
        ...folders,
        NEO4J_URI: uri,
        METRICS_PORT: '0',
        METRICS_HOST: '127.0.0.1',
        INGEST_WORKERS: values.workers,
      }
    })
    const t0 = performance.now()
    const results = await Promise.all(
      envs.map((env) =>
        execa('node', [bin, 'watch', '--once', '--json', '--log-level', 'debug'], {env, reject: false, all: false}),
      ),
    )
    const seconds = (performance.now() - t0) / 1000
    let transactions = 0
    let retries = 0
    let graphFailures = 0
    let done = 0
    for (const [i, r] of results.entries()) {
      if (r.exitCode !== 0) throw new Error(`watcher ${i + 1} of ${n} exited ${r.exitCode}: ${r.stderr.slice(-2000)}`)
      const summary = JSON.parse(r.stdout) as {files: number; transactions: number; graphFailures: number}
      transactions += summary.transactions
      graphFailures += summary.graphFailures
      done += summary.files
      // The writer logs one debug line per retry (src/core/graph/transactions.ts) on stderr and in its log file.
      retries += (r.stderr.match(/retry \d+ by the driver/g) ?? []).length
    }
    const nodes = await cypher('MATCH (n) RETURN count(n)')
    if (!warmUp)
      rows.push({
        watchers: n,
        files: done,
        seconds: Number(seconds.toFixed(1)),
        filesPerSecond: Number((done / seconds).toFixed(1)),
        transactions,
        retries,
        graphFailures,
        nodes,
      })
  }
} finally {
  await driver.close()
  rmSync(work, {recursive: true, force: true})
}

if (values.json) console.log(JSON.stringify(rows, null, 2))
else {
  console.log('| watchers | files | seconds | files/s | transactions | retries | graph failures | nodes |')
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    console.log(
      `| ${r.watchers} | ${r.files} | ${r.seconds} | ${r.filesPerSecond} | ${r.transactions} | ${r.retries} | ${r.graphFailures} | ${r.nodes} |`,
    )
  }
}
