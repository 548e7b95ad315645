import {join} from 'node:path'

import {expect} from 'chai'
import sinon from 'sinon'

import {cacheStats, checkCache, type FileLineage, type Logger} from '../../../src/core/index.js'
import {type CacheKey, ParseCache} from '../../../src/core/cache/parse-cache.js'
import {APPLICATION_ID, closeQuietly, openCacheDb, schemaState} from '../../../src/core/cache/db.js'
import {openDatabase} from '../../../src/core/util/sqlite.js'
import {editCachedPayloads} from '../../helpers/cache-edit.js'
import {useTmpDir} from '../../helpers/tmp.js'

function lineage(path: string, target: string): FileLineage {
  return {
    path,
    dialect: 'postgres',
    status: 'ok',
    sources: ['raw.orders'],
    targets: [target],
    statements: [],
    errors: [],
    parserVersion: '1.0.0',
  }
}

const KEY: CacheKey = {contentHash: 'a'.repeat(64), parserVersion: '1.0.0', dialect: 'postgres', variant: ''}
const OTHER: CacheKey = {...KEY, contentHash: 'b'.repeat(64)}

function rowCount(file: string): number {
  const db = openDatabase(file)
  try {
    return (db.prepare('SELECT count(*) AS n FROM entries').get() as {n: number}).n
  } finally {
    db.close()
  }
}

describe('parse cache checksums', () => {
  let file: string
  let cache: ParseCache | undefined
  const tmp = useTmpDir({
    cleanup: () => {
      cache?.close()
      cache = undefined
    },
  })
  const logger = (): Logger & {warn: sinon.SinonSpy} => ({
    debug: sinon.spy(),
    info: sinon.spy(),
    warn: sinon.spy(),
    error: sinon.spy(),
  })

  beforeEach(() => {
    file = join(tmp.dir, 'parse-cache.sqlite')
  })

  it('turns a same-length change inside a payload into a miss: dropped, logged with the path, counted', () => {
    const log = logger()
    const onBadEntry = sinon.spy()
    cache = ParseCache.open(file, {logger: log, events: {onBadEntry}})
    cache.put(KEY, lineage('models/orders.sql', 'mart.orders'))
    expect(cache.get(KEY)?.targets).to.deep.equal(['mart.orders'])

    expect(editCachedPayloads(file, 'mart.orders', 'mart.ordars')).to.equal(1)

    expect(cache.get(KEY, 'models/orders.sql')).to.equal(undefined)
    expect(onBadEntry.callCount).to.equal(1)
    expect(onBadEntry.firstCall.args[0]).to.deep.include({path: 'models/orders.sql', contentHash: KEY.contentHash})
    const warnings = log.warn.getCalls().map((c) => String(c.args[0]))
    expect(warnings.filter((w) => w.includes('models/orders.sql') && w.includes('checksum'))).to.have.length(1)
    expect(rowCount(file), 'the bad row is deleted').to.equal(0)
    expect(cache.stats()).to.include({hits: 1, misses: 1})

    // The re-parse stores a good entry again, and it is a hit.
    cache.put(KEY, lineage('models/orders.sql', 'mart.orders'))
    expect(cache.get(KEY)?.targets).to.deep.equal(['mart.orders'])
    expect(onBadEntry.callCount).to.equal(1)
  })

  it('binds the payload to its key: a payload moved with its checksum under another key fails', () => {
    const onBadEntry = sinon.spy()
    cache = ParseCache.open(file, {events: {onBadEntry}})
    cache.put(KEY, lineage('a.sql', 'mart.aaaaaa'))
    cache.put(OTHER, lineage('b.sql', 'mart.bbbbbb'))
    const db = openDatabase(file)
    db.exec(
      `UPDATE entries SET (lineage, checksum) = (SELECT lineage, checksum FROM entries WHERE id = 2) WHERE id = 1`,
    )
    db.close()
    expect(cache.get(KEY)).to.equal(undefined)
    expect(cache.get(OTHER)?.targets).to.deep.equal(['mart.bbbbbb'])
    expect(onBadEntry.callCount).to.equal(1)
  })

  it('cache check counts the entries that fail their checksum and leaves the file as it is', () => {
    cache = ParseCache.open(file)
    cache.putMany(
      ['one', 'two', 'six'].map((n, i) => ({
        key: {...KEY, contentHash: `k${i}`},
        lineage: lineage(`${n}.sql`, `mart.${n}`),
      })),
    )
    cache.close()
    cache = undefined
    expect(checkCache(file)).to.deep.equal({ok: true, problems: [], badEntries: 0})

    editCachedPayloads(file, 'mart.one', 'mart.onf')
    editCachedPayloads(file, 'mart.six', 'mart.sex')
    const check = checkCache(file)
    expect(check).to.include({ok: false, badEntries: 2})
    expect(check.problems).to.deep.equal([
      '2 entries fail their checksum: the stored lineage was changed after it was written',
    ])
    expect(rowCount(file)).to.equal(3)
  })

  it('drops the entries of a cache written before checksums, keeping its counters', () => {
    // A version-1 cache as an earlier lineage wrote it: no checksum column.
    const db = openDatabase(file)
    db.exec(`
      CREATE TABLE entries (id INTEGER PRIMARY KEY, key BLOB NOT NULL, parser_version TEXT NOT NULL,
        dialect TEXT NOT NULL, created_at INTEGER NOT NULL, lineage TEXT NOT NULL);
      CREATE UNIQUE INDEX entries_key ON entries (key);
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO counters VALUES ('hits', 7), ('misses', 3), ('since', 0);
      INSERT INTO entries (key, parser_version, dialect, created_at, lineage)
        VALUES (x'00', '1.0.0', 'postgres', 0, '{"statements":[],"status":"ok"}');
      PRAGMA application_id = ${APPLICATION_ID};
      PRAGMA user_version = 1;
    `)
    db.close()
    // Read-only commands still read it, and find nothing to verify.
    expect(cacheStats(file)).to.include({status: 'ok', entries: 1, hits: 7})
    expect(checkCache(file)).to.deep.equal({ok: true, problems: [], badEntries: 0})

    cache = ParseCache.open(file)
    expect(cache.stats()).to.include({status: 'ok', entries: 0, hits: 7, misses: 3})
    cache.put(KEY, lineage('a.sql', 'mart.orders'))
    expect(cache.get(KEY)?.targets).to.deep.equal(['mart.orders'])
    const reader = openCacheDb(file, {create: false})
    expect(schemaState(reader)).to.equal('ours')
    closeQuietly(reader)
  })
})
