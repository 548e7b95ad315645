/**
 * Issue 12, scenario 2: a parse cut short by load must not be final. A short parse limit stands in for a
 * slow moment: a big file runs out of it and is recorded incomplete (ledger, output record, SqlFile property).
 * Then the limit is back to normal (a restart), or the running service retries it when idle with a longer
 * one; either way the graph and the output folder end equal to a fault-free ingestion.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {generateCorpus} from '../../src/bench/corpus.js'
import type {ServiceHandle} from '../../src/core/ingest/service.js'
import {openDatabase} from '../../src/core/util/sqlite.js'
import {ledgerRows} from '../helpers/ledger.js'
import {useNeo4j} from '../helpers/neo4j.js'
import {runService, serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

/** The bench corpus's 200 KB nightly file (about 130 statements): about a second to parse on an idle core. */
const BIG = 'nightly/batch.sql'
const bigSql = (): string => {
  const file = generateCorpus({files: 8, seed: 42})[7]
  if (!file?.relPath.includes('nightly_batch')) throw new Error('the bench corpus has no nightly file at 7')
  return file.sql
}

/** 0.1 s (80 ms between statements): far less than the big file needs on any machine. */
const SHORT = {LINEAGE_PARSE_TIMEOUT_SECONDS: '0.1'}

/** The ledger's count of incomplete parses per path (the rows with one). */
function incompleteRows(stateDir: string): Map<string, number> {
  const db = openDatabase(join(stateDir, 'ledger.sqlite'), {readonly: true, timeout: 5000})
  try {
    const rows = db.prepare('SELECT path, incomplete FROM files WHERE incomplete > 0').all() as {
      path: string
      incomplete: number
    }[]
    return new Map(rows.map((r) => [r.path, r.incomplete]))
  } catch {
    return new Map() // a starting service has not created the table or the column yet
  } finally {
    db.close()
  }
}

interface OutputRecord {
  lineage: {incomplete?: boolean; statements: unknown[]; errors: {code: string}[]}
}

describe('fault: a parse cut short by a slow moment is not final', function () {
  this.timeout(240_000)
  const neo = useNeo4j()
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: async () => service?.stop()})

  const sqlFileIncomplete = async (path: string): Promise<unknown> =>
    (await neo.query('MATCH (f:SqlFile {path: $path}) RETURN f.incomplete AS incomplete', {path}))[0]?.incomplete
  const record = (outDir: string): OutputRecord =>
    JSON.parse(readFileSync(join(outDir, `${BIG}.lineage.json`), 'utf8')) as OutputRecord

  it('is recorded incomplete, parsed again at the next start with the normal limit, and ends as a clean run', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, ...SHORT, LINEAGE_INCOMPLETE_RETRY_SECONDS: '0'})
    const raw = env.LINEAGE_RAW_DIR!
    const stateDir = env.LINEAGE_STATE_DIR!
    writeCorpus(raw, 10)
    writeFile(raw, BIG, bigSql())
    service = await runService(env)
    // (a small file may run out of 0.1 s too on a busy machine; the pool's limit leaves it without a hash)
    await waitFor('every file recorded', () => ledgerRows(stateDir).size === 11, 60_000)
    expect(incompleteRows(stateDir).has(BIG)).to.equal(true)
    await service.stop()
    service = undefined

    // Incomplete everywhere it is recorded: the ledger, the output record, the graph.
    expect(incompleteRows(stateDir).get(BIG)).to.equal(1)
    const cut = record(env.LINEAGE_OUT_DIR!)
    expect(cut.lineage.incomplete).to.equal(true)
    expect(cut.lineage.errors.map((e) => e.code)).to.include('E_PARSE_TIMEOUT')
    expect(await sqlFileIncomplete(BIG)).to.equal(true)

    // The machine is idle again: the normal limit, and a restart.
    const normal = {...env, LINEAGE_INCOMPLETE_RETRY_SECONDS: undefined, LINEAGE_PARSE_TIMEOUT_SECONDS: undefined}
    service = await runService(normal)
    await waitFor('no incomplete file left', () => incompleteRows(stateDir).size === 0, 120_000)
    await waitCaughtUp(normal)
    await service.stop()
    service = undefined

    expect(record(env.LINEAGE_OUT_DIR!).lineage).not.to.have.property('incomplete')
    expect(await sqlFileIncomplete(BIG)).to.equal(null)
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })

  it('is parsed again by the running service when idle, with a longer limit, and ends as a clean run', async () => {
    const env = serviceEnv(tmp.dir, {NEO4J_URI: neo.uri, ...SHORT, LINEAGE_INCOMPLETE_RETRY_SECONDS: '1'})
    const raw = env.LINEAGE_RAW_DIR!
    const stateDir = env.LINEAGE_STATE_DIR!
    writeCorpus(raw, 10)
    writeFile(raw, BIG, bigSql())
    service = await runService(env, {logLevel: 'info'})
    const seen: number[] = []
    await waitFor(
      'the big file parsed complete',
      () => {
        const n = incompleteRows(stateDir).get(BIG)
        if (n !== undefined && seen.at(-1) !== n) seen.push(n)
        return seen.length > 0 && n === undefined
      },
      180_000,
    )
    await waitFor('no incomplete file left', () => incompleteRows(stateDir).size === 0, 60_000)
    await waitCaughtUp(env)
    const s = service
    await s.stop()
    service = undefined

    // It ran out of time at least once, and each retry counted one more: never given up, never looping.
    expect(seen[0]).to.equal(1)
    expect(seen).to.deep.equal(seen.map((_, i) => i + 1))
    const log = readFileSync(env.LINEAGE_LOG_FILE!, 'utf8')
    expect(log).to.match(/idle: parsing \d+ incomplete file\(s\) again with a longer budget/)
    expect(log).not.to.match(/still incomplete after/)
    expect(record(env.LINEAGE_OUT_DIR!).lineage).not.to.have.property('incomplete')
    expect(await sqlFileIncomplete(BIG)).to.equal(null)
    // The clean run has the normal limit: what a busy moment cut short is now the same as on an idle machine.
    await expectSameAsCleanIngestion(neo, {rawDir: raw, outDir: env.LINEAGE_OUT_DIR!})
  })
})
