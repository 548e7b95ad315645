import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {failureReason} from '../../src/core/ingest/metric-defs.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {castAroundSubqueries} from '../helpers/slow-sql.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

/** One statement with 40,000 expressions: over 64 MB of parser heap, and over a second of parsing. */
const HUGE = `INSERT INTO big.t SELECT ${Array.from({length: 40_000}, (_, i) => `c${i} + c${i + 1} AS x${i}`).join(', ')} FROM src.t;`

interface Output {
  lineage: {status: string; errors: {code: string; message: string}[]}
}

describe('fault: a parse worker that runs out of memory or time on a crafted file', function () {
  this.timeout(120_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: async () => service?.stop()})

  const cases = [
    {
      name: 'out of memory (LINEAGE_WORKER_MAX_MB=64)',
      // The statement budget is not what this case is about: out of the way, so only the heap limit ends it.
      limits: {
        LINEAGE_WORKER_MAX_MB: '64',
        LINEAGE_PARSE_TIMEOUT_SECONDS: '15',
        LINEAGE_STATEMENT_BUDGET_SECONDS: '60',
      },
      sql: HUGE,
      code: 'E_WORKER_CRASHED',
      reason: /crashed twice on this file: worker ran out of memory \(limit 64 MB\)/,
      // Two crashes, each well before the limit.
      withinMs: 15_000,
    },
    {
      name: 'over the time limit (LINEAGE_PARSE_TIMEOUT_SECONDS=1)',
      // No retry while running (incomplete-retry.ts), so the file stays as its one parse left it.
      limits: {LINEAGE_PARSE_TIMEOUT_SECONDS: '1', LINEAGE_INCOMPLETE_RETRY_SECONDS: '0'},
      // Minutes of grammar work (the token fast path reads HUGE in about a second now, too near the limit).
      sql: `${castAroundSubqueries(12)};`,
      code: 'E_PARSE_TIMEOUT',
      reason: /parsing took longer than the limit of 1 s/,
      // The limit, plus the event's settle and debounce time and a loaded machine's slack.
      withinMs: 1000 + 2500,
    },
  ]
  for (const c of cases) {
    it(`${c.name}: the pool recovers, that file fails with its reason in time, the others go through`, async () => {
      const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '20', ...c.limits})
      const raw = env.LINEAGE_RAW_DIR!
      writeCorpus(raw, 10)
      service = await runService(env)
      const s = service
      await waitCaughtUp(env)

      const out = join(env.LINEAGE_OUT_DIR!, 'crafted/huge.sql.lineage.json')
      writeFile(raw, 'crafted/huge.sql', c.sql)
      const dropped = Date.now()
      writeCorpus(raw, 10, 10)
      await waitFor('the crafted file failed', () => existsSync(out), 30_000)
      const elapsed = Date.now() - dropped
      const record = JSON.parse(readFileSync(out, 'utf8')) as Output
      expect(record.lineage.status).to.equal('failed')
      expect(record.lineage.errors[0]?.code).to.equal(c.code)
      expect(record.lineage.errors[0]?.message).to.match(c.reason)
      expect(elapsed, 'time to the failure (ms)').to.be.below(c.withinMs)

      // The pool is whole: files dropped after the failure go through too.
      writeCorpus(raw, 5, 20)
      // (the failed file's ledger row holds no content hash: it was never read to the end)
      await waitCaughtUp(env, {except: (rel) => rel === 'crafted/huge.sql'})
      expect(s.stats.failed, 'failed files').to.equal(1)
      expect(s.stats.files).to.equal(10 + 1 + 10 + 5)
      const log = readFileSync(env.LINEAGE_LOG_FILE!, 'utf8')
      expect(log.match(/crafted\/huge\.sql: /g), 'the failure is logged once, with the path').to.have.length(1)
      const metrics = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text()
      expect(metrics).to.include(`files_failed_by_reason_total{reason="${failureReason(c.code)}"} 1`)
      expect(metrics).to.include('files_failed_total 1')
      await s.stop()
      service = undefined
      await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!, env: c.limits})
    })
  }
})
