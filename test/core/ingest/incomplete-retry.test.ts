import {join} from 'node:path'

import {expect} from 'chai'

import {
  BUDGET_FLOOR_MS,
  maxLimitMs,
  nextIncomplete,
  parseLimitMs,
  retriesExhausted,
  startIncompleteRetry,
} from '../../../src/core/ingest/incomplete-retry.js'
import {Ledger, type LedgerRow} from '../../../src/core/ingest/ledger.js'
import {type Logger, silentLogger} from '../../../src/core/logger.js'
import {openDatabase} from '../../../src/core/util/sqlite.js'
import {useTmpDir} from '../../helpers/tmp.js'

const row = (parts: Partial<LedgerRow> = {}): LedgerRow => ({
  path: 'a.sql',
  size: 10,
  mtimeMs: 1000,
  contentHash: 'h1',
  graph: 'written',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...parts,
})

describe('incomplete parses: budgets and counts', () => {
  it('doubles the limit per parse that ran out, up to 8x the setting', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => parseLimitMs(60_000, n))).to.deep.equal([
      60_000, 120_000, 240_000, 480_000, 480_000, 480_000,
    ])
    expect(maxLimitMs(60_000)).to.equal(480_000)
  })

  it('lets a short setting (a slow moment) still grow to a minute', () => {
    expect(maxLimitMs(100)).to.equal(BUDGET_FLOOR_MS)
    expect(parseLimitMs(100, 3)).to.equal(800)
    expect(parseLimitMs(100, 20)).to.equal(BUDGET_FLOOR_MS)
  })

  it('gives up while running only after a parse with the largest limit ran out too', () => {
    // 60 s, 120 s, 240 s, then 480 s: the fourth incomplete parse had the largest limit.
    expect([0, 1, 2, 3, 4, 5].map((n) => retriesExhausted(60_000, n))).to.deep.equal([
      false,
      false,
      false,
      false,
      true,
      true,
    ])
    // 0.1 s doubles eleven times before its parse has the one-minute floor.
    expect(retriesExhausted(100, 10)).to.equal(false)
    expect(retriesExhausted(100, 11)).to.equal(true)
  })

  it('counts incomplete parses of the same content in a row, and starts again for new content', () => {
    const now = {contentHash: 'h1', size: 10, mtimeMs: 1000}
    expect(nextIncomplete(undefined, {...now, incomplete: true})).to.equal(1)
    expect(nextIncomplete(row(), {...now, incomplete: true})).to.equal(1)
    expect(nextIncomplete(row({incomplete: 2}), {...now, incomplete: true})).to.equal(3)
    expect(nextIncomplete(row({incomplete: 2}), {...now, contentHash: 'h2', incomplete: true})).to.equal(1)
    expect(nextIncomplete(row({incomplete: 2}), {...now, mtimeMs: 2000, incomplete: true})).to.equal(1)
    expect(nextIncomplete(row({incomplete: 2}), {...now, incomplete: false})).to.equal(0)
    // The pool's hard limit leaves no content hash: counted on, whichever way the parse ran out.
    const killed = {contentHash: 'failed:E_PARSE_TIMEOUT', size: 0, mtimeMs: 0, incomplete: true}
    expect(nextIncomplete(row({incomplete: 1}), killed)).to.equal(2)
    expect(nextIncomplete(row({...killed, incomplete: 2}), {...now, incomplete: true})).to.equal(3)
  })
})

describe('incomplete parses: the idle retry', function () {
  this.timeout(20_000)

  it('queues the files still worth a retry once idle, and logs and counts the ones given up, once', async () => {
    const rows = [row({path: 'a.sql', incomplete: 1}), row({path: 'b.sql', incomplete: 11})]
    const queued: string[] = []
    const reports: [number, number][] = []
    const warnings: string[] = []
    const logger: Logger = {...silentLogger, warn: (m) => warnings.push(m)}
    let busy = true
    const stop = startIncompleteRetry({
      baseMs: () => 100, // b.sql's last parse had the one-minute limit: given up
      intervalMs: () => 1,
      busy: () => busy,
      stopping: () => false,
      incomplete: () => rows,
      queue: (rel) => queued.push(rel),
      logger,
      report: (pending, exhausted) => reports.push([pending, exhausted]),
    })
    try {
      await new Promise((r) => setTimeout(r, 2500))
      expect(queued, 'nothing while busy').to.deep.equal([])
      busy = false
      for (let i = 0; i < 60 && reports.length < 2; i++) await new Promise((r) => setTimeout(r, 100))
      expect(queued.slice(0, 2)).to.deep.equal(['a.sql', 'a.sql'])
      expect(queued).not.to.include('b.sql')
      expect(reports.slice(0, 2)).to.deep.equal([
        [1, 1],
        [1, 1],
      ])
      expect(warnings).to.have.length(1)
      expect(warnings[0]).to.match(/^b\.sql: still incomplete after 11 parse\(s\), the last with 60 s/)
    } finally {
      stop()
    }
  })
})

describe('ingest ledger: the incomplete column', () => {
  const tmp = useTmpDir({prefix: 'lineage-ledger-'})

  it('opens a ledger written before the column, keeps its rows, and records incomplete files', () => {
    const file = join(tmp.dir, 'ledger.sqlite')
    const old = openDatabase(file)
    old.exec(`CREATE TABLE files (
      path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
      content_hash TEXT NOT NULL, graph TEXT NOT NULL, updated_at TEXT NOT NULL)`)
    old
      .prepare('INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)')
      .run('a.sql', 10, 1000, 'h1', 'written', '2026-01-01T00:00:00.000Z')
    old.close()

    const ledger = Ledger.open(file, silentLogger)
    try {
      expect(ledger.get('a.sql')).to.deep.equal(row())
      expect(ledger.incomplete()).to.deep.equal([])
      ledger.apply([
        {path: 'b.sql', row: row({path: 'b.sql', incomplete: 2})},
        {path: 'c.sql', row: row({path: 'c.sql'})},
      ])
      expect(ledger.incomplete()).to.deep.equal([row({path: 'b.sql', incomplete: 2})])
      expect(ledger.get('c.sql')).to.deep.equal(row({path: 'c.sql'}))
      ledger.apply([{path: 'b.sql', row: row({path: 'b.sql'})}])
      expect(ledger.incomplete()).to.deep.equal([])
    } finally {
      ledger.close()
    }
    // Opened again (the column is there now): nothing changes.
    const again = Ledger.open(file, silentLogger)
    try {
      expect(again.count()).to.equal(3)
      expect(again.get('a.sql')).to.deep.equal(row())
    } finally {
      again.close()
    }
  })
})
