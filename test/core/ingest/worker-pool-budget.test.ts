import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {silentLogger} from '../../../src/core/logger.js'
import {WorkerPool} from '../../../src/core/ingest/worker-pool.js'
import type {ParsedResult} from '../../../src/core/ingest/file-task.js'
import {FILE_WITH_SLOW_STATEMENT} from '../../helpers/slow-sql.js'
import {useTmpDir} from '../../helpers/tmp.js'

// Real workers, a real statement that would parse for minutes: the pool must stop it at the statement
// budget, replace the worker and keep the rest of the file's lineage.
describe('worker pool: the statement budget', function () {
  this.timeout(60_000)
  let pool: WorkerPool | undefined
  const tmp = useTmpDir({cleanup: () => pool?.close()})

  it('stops a statement over its budget and keeps the other statements of the file', async () => {
    const overBudget: string[] = []
    const warnings: string[] = []
    pool = new WorkerPool({
      size: 1,
      dialect: 'ansi',
      timeoutMs: 600_000,
      statementBudgetMs: 1000,
      workerMaxMb: 512,
      cacheFile: join(tmp.dir, 'cache.sqlite'),
      logger: {...silentLogger, warn: (m: string) => warnings.push(m)},
      onOverBudget: (relPath) => overBudget.push(relPath),
    })
    writeFileSync(join(tmp.dir, 'slow.sql'), FILE_WITH_SLOW_STATEMENT)
    const task = {absPath: join(tmp.dir, 'slow.sql'), relPath: 'slow.sql', dialect: 'ansi', maxBytes: 1 << 20}
    const result = (await pool.run({...task, deadlineMs: 600_000}, true)) as ParsedResult
    expect(result.kind).to.equal('parsed')
    const f = result.lineage
    expect(f.status).to.equal('degraded')
    expect(f.statements.map((s) => s.status)).to.deep.equal(['ok', 'fallback', 'ok'])
    const slow = f.statements[1]
    expect(slow?.error?.code).to.equal('E_PARSE_BUDGET')
    expect(slow?.error?.message).to.include('line 2').and.include('1 s')
    expect(slow?.sources).to.deep.equal(['tab2'])
    expect(slow?.targets).to.deep.equal(['tab1'])
    expect(f.columns?.map((c) => `${c.sources.join(',')} -> ${c.target}`)).to.deep.equal([
      's_after.b -> t_after.b',
      's_before.a -> t_before.a',
    ])
    expect(overBudget).to.deep.equal(['slow.sql'])
    expect(warnings.join('\n')).to.include('slow.sql').and.include('statement budget')

    // The pool goes on with a new worker, and the degraded lineage was cached: no second wait.
    writeFileSync(join(tmp.dir, 'ok.sql'), 'INSERT INTO x SELECT y FROM z;\n')
    const ok = (await pool.run(
      {...task, absPath: join(tmp.dir, 'ok.sql'), relPath: 'ok.sql', deadlineMs: 600_000},
      true,
    )) as ParsedResult
    expect(ok.lineage.status).to.equal('ok')
    const again = (await pool.run({...task, deadlineMs: 600_000}, true)) as ParsedResult
    expect(again.cacheHit).to.equal(true)
    expect(again.lineage.statements[1]?.error?.code).to.equal('E_PARSE_BUDGET')
    expect(overBudget).to.have.length(1)
  })
})
