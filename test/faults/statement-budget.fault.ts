import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {ServiceHandle} from '../../src/core/ingest/service.js'
import type {FileLineage} from '../../src/core/types.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {FILE_WITH_SLOW_STATEMENT} from '../helpers/slow-sql.js'
import {useTmpDir} from '../helpers/tmp.js'
import {waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

describe('fault: a statement on a grammar exponential path, under watch', function () {
  this.timeout(180_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: async () => service?.stop()})

  it('is stopped at the statement budget; the rest of its file and every other file go through', async () => {
    const limits = {LINEAGE_STATEMENT_BUDGET_SECONDS: '1'}
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, BATCH_SIZE_THRESHOLD: '20', ...limits})
    const raw = env.LINEAGE_RAW_DIR!
    writeCorpus(raw, 10)
    // The stopped statement is a warning (the file is not lost): the log must keep warnings.
    service = await runService(env, {logLevel: 'warn'})
    const s = service
    await waitCaughtUp(env)

    writeFile(raw, 'crafted/slow.sql', FILE_WITH_SLOW_STATEMENT)
    writeCorpus(raw, 10, 10)
    const out = join(env.LINEAGE_OUT_DIR!, 'crafted/slow.sql.lineage.json')
    // Without the budget this file parses for minutes: the file's limit (60 s) would end it, and it would fail.
    await waitFor('the crafted file parsed', () => existsSync(out), 30_000)
    const {lineage} = JSON.parse(readFileSync(out, 'utf8')) as {lineage: FileLineage}
    expect(lineage.status).to.equal('degraded')
    expect(lineage.statements.map((st) => [st.status, st.error?.code ?? null])).to.deep.equal([
      ['ok', null],
      ['fallback', 'E_PARSE_BUDGET'],
      ['ok', null],
    ])
    expect(lineage.targets).to.deep.equal(['t_after', 't_before', 'tab1'])

    await waitCaughtUp(env)
    expect(s.stats.failed, 'failed files').to.equal(0)
    const log = readFileSync(env.LINEAGE_LOG_FILE!, 'utf8')
    expect(log.match(/crafted\/slow\.sql: a statement ran over the statement budget of 1 s/g)).to.have.length(1)
    const metrics = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text()
    expect(metrics).to.include('statements_over_budget_total 1')
    await s.stop()
    service = undefined
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!, env: limits})
  })
})
