import {existsSync, readFileSync, renameSync} from 'node:fs'

import {expect} from 'chai'

import type {ServiceHandle} from '../../../src/core/ingest/service.js'
import {logObserver} from '../../../src/core/ingest/log-observer.js'
import {runService, serviceEnv, waitFor, writeSql} from '../../helpers/service.js'
import {tmpDir} from '../../helpers/tmp.js'

interface Line {
  level: string
  msg: string
  [field: string]: unknown
}

const lines = (file: string): Line[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Line)
    : []

// The runbook's "Test basic ingestion": drop a test file in the watched folder, `tail -f logs/ingestion.log`.
describe('the ingestion log (logs/ingestion.log)', function () {
  this.timeout(30_000)
  let tmp: ReturnType<typeof tmpDir>
  let service: ServiceHandle | undefined
  let env: NodeJS.ProcessEnv
  let log: string
  beforeEach(async () => {
    tmp = tmpDir()
    env = serviceEnv(tmp.dir, {NEO4J_URI: undefined})
    log = env.LINEAGE_LOG_FILE!
    service = await runService(env, {logLevel: 'info'})
  })
  afterEach(async () => {
    await service?.stop()
    service = undefined
    tmp.remove()
  })
  const find = (file: string, msg: string) => lines(file).find((l) => l.msg === msg)

  it("shows the runbook's test file within seconds, with what was read, written and how long it took", async () => {
    writeSql(env.LINEAGE_RAW_DIR!, 'test_rollback.sql', 'CREATE TABLE test_rollback (id INT);\n')
    writeSql(
      env.LINEAGE_RAW_DIR!,
      'etl/load.sql',
      'INSERT INTO mart.b SELECT x FROM stage.a JOIN stage.c ON a.k = c.k;\n',
    )
    await waitFor(
      'both files in the log',
      () => find(log, 'ingested etl/load.sql') !== undefined && find(log, 'ingested test_rollback.sql') !== undefined,
      5000,
    )
    const test = find(log, 'ingested test_rollback.sql')
    expect(test).to.include({level: 'info', path: 'test_rollback.sql', statements: 1, tablesWritten: 1, graph: 'off'})
    const load = find(log, 'ingested etl/load.sql')!
    expect(load).to.include({status: 'ok', statements: 1, tablesRead: 2, tablesWritten: 1, cacheHit: false})
    expect(load.ms).to.be.a('number').and.at.least(0)
    expect(lines(log).some((l) => l.level === 'info' && /^batch of \d+ file\(s\) done/.test(l.msg))).to.equal(true)
  })

  it('warns for every statement that fell back or failed, with its line, though the file is stored', async () => {
    writeSql(
      env.LINEAGE_RAW_DIR!,
      'degraded.sql',
      'INSERT INTO t2 SELECT a FROM t1;\nINSERT INTO t3 SELECT a FROM t2 WHERE a = = 1;\n\nSELECT FROM WHERE (((;\n',
    )
    await waitFor('the file in the log', () => find(log, 'ingested degraded.sql') !== undefined, 5000)
    const warnings = lines(log).filter((l) => l.level === 'warn' && l.path === 'degraded.sql' && 'status' in l)
    expect(warnings.map((w) => [w.line, w.status])).to.deep.equal([
      [2, 'fallback'],
      [4, 'failed'],
    ])
  })

  it('reopens the file after logrotate moved it (SIGHUP)', async () => {
    writeSql(env.LINEAGE_RAW_DIR!, 'a.sql', 'CREATE TABLE a (id INT);\n')
    await waitFor('a.sql in the log', () => find(log, 'ingested a.sql') !== undefined, 5000)
    renameSync(log, `${log}.1`)
    service!.reopenLog()
    writeSql(env.LINEAGE_RAW_DIR!, 'b.sql', 'CREATE TABLE b (id INT);\n')
    await waitFor('b.sql in the new log', () => find(log, 'ingested b.sql') !== undefined, 5000)
    expect(find(log, 'ingested a.sql')).to.equal(undefined)
    expect(find(`${log}.1`, 'ingested a.sql')).not.to.equal(undefined)
  })
})

describe('logObserver with parse-ahead', () => {
  const capture = () => {
    const out: {level: string; msg: string}[] = []
    const at =
      (level: string) =>
      (msg: string): void => {
        out.push({level, msg})
      }
    return {out, logger: {debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error')}}
  }
  const parsedEvent = (relPath: string) => ({
    relPath,
    statements: 1,
    status: 'ok' as const,
    cacheHit: false,
    cacheUsed: true,
  })
  const row = (path: string) => ({path, size: 1, mtimeMs: 1, contentHash: 'h', graph: 'off' as const, updatedAt: 't'})

  it('logs a file parsed while the batch before it was written as ingested, not unchanged', () => {
    const {out, logger} = capture()
    const o = logObserver(logger)
    o.fileParsed!(parsedEvent('a.sql'))
    o.fileParsed!(parsedEvent('b.sql')) // the next batch, parsed ahead
    o.fileRecorded!({relPath: 'a.sql', row: row('a.sql'), latencyMs: 1})
    o.batchDone!({files: 1, seconds: 1})
    o.fileRecorded!({relPath: 'b.sql', row: row('b.sql'), latencyMs: 1})
    o.batchDone!({files: 1, seconds: 1})
    expect(out.filter((l) => l.msg.startsWith('ingested')).map((l) => l.msg)).to.deep.equal([
      'ingested a.sql',
      'ingested b.sql',
    ])
    expect(out.some((l) => l.msg.startsWith('unchanged'))).to.equal(false)
  })

  it('forgets a parse that was never recorded, so a later touch of that file logs unchanged', () => {
    const {out, logger} = capture()
    const o = logObserver(logger)
    o.fileParsed!(parsedEvent('lost.sql'))
    for (let i = 0; i < 4; i++) o.batchDone!({files: 0, seconds: 0})
    o.fileRecorded!({relPath: 'lost.sql', row: row('lost.sql'), latencyMs: 1})
    expect(out.find((l) => l.msg.endsWith('lost.sql'))).to.deep.include({level: 'debug', msg: 'unchanged lost.sql'})
  })
})
