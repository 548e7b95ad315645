import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {Worker} from 'node:worker_threads'

import {expect} from 'chai'
import sinon from 'sinon'

import {cacheStats, checkCache, clearCache, type FileLineage, type Logger} from '../../../src/core/index.js'
import {type CacheKey, ParseCache, type ParseCacheOptions} from '../../../src/core/cache/parse-cache.js'
import {closeQuietly, openCacheDb, schemaState} from '../../../src/core/cache/db.js'
import {openDatabase} from '../../../src/core/util/sqlite.js'
import {useTmpDir} from '../../helpers/tmp.js'

function lineage(path: string, target = 'mart.orders'): FileLineage {
  return {
    path,
    dialect: 'postgres',
    status: 'ok',
    sources: ['raw.orders'],
    targets: [target],
    statements: [
      {
        index: 0,
        kind: 'INSERT',
        line: 1,
        column: 1,
        sources: ['raw.orders'],
        targets: [target],
        columns: [{target: `${target}.id`, sources: ['raw.orders.id']}],
        grammar: 'postgresql',
        status: 'ok',
        error: null,
      },
    ],
    errors: [],
    parserVersion: '1.0.0',
  }
}

const KEY: CacheKey = {contentHash: 'a'.repeat(64), parserVersion: '1.0.0', dialect: 'postgres', variant: ''}

function fakeLogger(): Logger & {warn: sinon.SinonSpy; info: sinon.SinonSpy} {
  return {debug: sinon.spy(), info: sinon.spy(), warn: sinon.spy(), error: sinon.spy()}
}

/** A clock the test moves forward, to trigger the once-a-second checks without waiting. */
function manualClock(): {clock: () => Date; advance: (ms: number) => void} {
  let now = Date.parse('2026-03-01T12:00:00Z')
  return {clock: () => new Date(now), advance: (ms) => (now += ms)}
}

/** Fill the cache and close it, which checkpoints the WAL into the main file, so later damage hits real pages. */
function seed(file: string, count: number): void {
  const cache = ParseCache.open(file)
  cache.putMany(
    Array.from({length: count}, (_, i) => ({key: {...KEY, contentHash: `seed-${i}`}, lineage: lineage(`s${i}.sql`)})),
  )
  cache.close()
}

/** Overwrite every page after the first with random bytes: the header stays valid, the b-trees do not. */
function damagePages(file: string): void {
  const bytes = readFileSync(file)
  randomBytes(bytes.length - 4096).copy(bytes, 4096)
  writeFileSync(file, bytes)
}

describe('ParseCache', () => {
  let file: string
  const open: ParseCache[] = []
  const openCache = (options: ParseCacheOptions = {}): ParseCache => {
    const cache = ParseCache.open(file, options)
    open.push(cache)
    return cache
  }
  const tmp = useTmpDir({
    cleanup: () => {
      for (const cache of open.splice(0)) cache.close()
      sinon.restore()
    },
  })

  beforeEach(() => {
    file = join(tmp.dir, 'cache', 'parse-cache.sqlite')
  })

  it('returns what was put, without the path, and creates the folder and file', () => {
    const cache = openCache()
    expect(cache.get(KEY)).to.equal(undefined)
    cache.put(KEY, lineage('models/orders.sql'))
    const expected: Partial<FileLineage> = lineage('models/orders.sql')
    delete expected.path
    expect(cache.get(KEY)).to.deep.equal(expected)
    expect(cache.get(KEY)).not.to.have.property('path')
    expect(existsSync(file)).to.equal(true)
  })

  it('keys on every part: another parser version, dialect or variant misses', () => {
    const cache = openCache()
    cache.put(KEY, lineage('a.sql'))
    const cases: [string, CacheKey, boolean][] = [
      ['same key', {...KEY}, true],
      [
        'variant absent equals empty',
        {contentHash: KEY.contentHash, parserVersion: '1.0.0', dialect: 'postgres'},
        true,
      ],
      ['other content', {...KEY, contentHash: 'b'.repeat(64)}, false],
      ['other parser version', {...KEY, parserVersion: '1.0.1'}, false],
      ['other dialect', {...KEY, dialect: 'mysql'}, false],
      ['other variant', {...KEY, variant: 'vars-1'}, false],
    ]
    for (const [name, key, hit] of cases) expect(cache.get(key) !== undefined, name).to.equal(hit)
  })

  it('replaces an entry put again under the same key, and putMany stores a batch', () => {
    const cache = openCache()
    cache.put(KEY, lineage('a.sql', 'mart.old'))
    cache.put(KEY, lineage('a.sql', 'mart.new'))
    expect(cache.get(KEY)?.targets).to.deep.equal(['mart.new'])
    cache.putMany([1, 2, 3].map((i) => ({key: {...KEY, contentHash: `h${i}`}, lineage: lineage(`${i}.sql`)})))
    expect(cache.stats().entries).to.equal(4)
    expect(cache.get({...KEY, contentHash: 'h3'})?.sources).to.deep.equal(['raw.orders'])
  })

  it('keeps hit and miss counts in the file, written on flush rather than per lookup, across reopen', () => {
    const cache = openCache()
    cache.get(KEY)
    cache.put(KEY, lineage('a.sql'))
    cache.get(KEY)
    cache.get(KEY)
    expect(cacheStats(file).hits, 'not written per lookup').to.equal(0)
    cache.flush()
    expect(cacheStats(file)).to.include({hits: 2, misses: 1, entries: 1})
    cache.get(KEY)
    cache.close()
    const again = openCache()
    again.get({...KEY, dialect: 'mysql'})
    const stats = again.stats()
    expect(stats).to.include({hits: 3, misses: 2})
    expect(stats.hitRate).to.equal(0.6)
    expect(stats.parserVersions).to.deep.equal([{parserVersion: '1.0.0', entries: 1}])
  })

  it('reports entries, size, times and versions', () => {
    const {clock, advance} = manualClock()
    const cache = openCache({clock})
    cache.put(KEY, lineage('a.sql'))
    advance(60_000)
    cache.put({...KEY, contentHash: 'c', parserVersion: '0.9.0'}, lineage('b.sql'))
    cache.put({...KEY, contentHash: 'd', parserVersion: '0.9.0', dialect: 'mysql'}, lineage('c.sql'))
    const stats = cache.stats()
    expect(stats).to.include({status: 'ok', entries: 3, oldestEntry: '2026-03-01T12:00:00.000Z'})
    expect(stats.newestEntry).to.equal('2026-03-01T12:01:00.000Z')
    expect(stats.parserVersions).to.deep.equal([
      {parserVersion: '0.9.0', entries: 2},
      {parserVersion: '1.0.0', entries: 1},
    ])
    expect(stats.dialects).to.deep.equal([
      {dialect: 'postgres', entries: 2},
      {dialect: 'mysql', entries: 1},
    ])
    expect(stats.sizeBytes)
      .to.equal(stats.dbBytes + stats.walBytes)
      .and.be.greaterThan(0)
    expect(stats.hitRate).to.equal(null)
  })

  it('shares one file between two connections at once', () => {
    const a = openCache()
    const b = openCache()
    a.put(KEY, lineage('a.sql'))
    expect(b.get(KEY)?.targets).to.deep.equal(['mart.orders'])
    b.put({...KEY, contentHash: 'e'}, lineage('e.sql'))
    expect(a.get({...KEY, contentHash: 'e'})).not.to.equal(undefined)
    a.flush()
    b.flush()
    expect(cacheStats(file)).to.include({entries: 2, hits: 2, misses: 0})
  })

  it('moves a file of random bytes aside at open and starts an empty cache', () => {
    const junk = randomBytes(16_384)
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, junk)
    const logger = fakeLogger()
    const onCorrupt = sinon.spy()
    const {clock} = manualClock()
    const cache = openCache({logger, clock, events: {onCorrupt}})
    expect(onCorrupt.calledOnce).to.equal(true)
    const info = onCorrupt.firstCall.args[0] as {file: string; movedTo: string; reason: string}
    expect(info.file).to.equal(file)
    expect(info.movedTo).to.equal(`${file}.corrupt-20260301T120000Z`)
    expect(info.reason).to.match(/not a database/)
    expect(readFileSync(info.movedTo).equals(junk), 'the damaged bytes are kept for inspection').to.equal(true)
    expect(logger.warn.calledWithMatch(/damaged .* moved it to/)).to.equal(true)
    cache.put(KEY, lineage('a.sql'))
    expect(cache.get(KEY)).not.to.equal(undefined)
    expect(cacheStats(file).quarantined).to.deep.equal([info.movedTo])
  })

  it('survives the file being overwritten with random bytes under an open handle', () => {
    const {clock, advance} = manualClock()
    const onCorrupt = sinon.spy()
    const cache = openCache({clock, events: {onCorrupt}})
    cache.put(KEY, lineage('a.sql'))
    writeFileSync(file, randomBytes(64 * 1024))
    // Before the next check, answers come from pages SQLite still holds; nothing throws either way.
    expect(() => cache.get({...KEY, contentHash: 'x'})).not.to.throw()
    expect(() => {
      cache.put({...KEY, contentHash: 'y'}, lineage('y.sql'))
    }).not.to.throw()
    advance(1500)
    expect(cache.get(KEY)).to.equal(undefined)
    expect(onCorrupt.calledOnce).to.equal(true)
    cache.put(KEY, lineage('a.sql'))
    expect(cache.get(KEY)?.targets).to.deep.equal(['mart.orders'])
    expect(cacheStats(file)).to.include({status: 'ok', entries: 1})
    expect(checkCache(file).ok).to.equal(true)
  })

  it('recovers on the spot when SQLite reports corruption during a lookup', () => {
    seed(file, 300)
    const onCorrupt = sinon.spy()
    const cache = openCache({events: {onCorrupt}})
    damagePages(file)
    expect(cache.get({...KEY, contentHash: 'seed-7'})).to.equal(undefined)
    expect(onCorrupt.calledOnce).to.equal(true)
    expect((onCorrupt.firstCall.args[0] as {reason: string}).reason).to.match(/malformed/)
    cache.put(KEY, lineage('a.sql'))
    expect(cache.get(KEY)).not.to.equal(undefined)
    expect(cacheStats(file).entries).to.equal(1)
  })

  it('reopens a file that another process removed, instead of writing into the unlinked one', () => {
    const {clock, advance} = manualClock()
    const cache = openCache({clock})
    cache.put(KEY, lineage('a.sql'))
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, {force: true})
    advance(1500)
    expect(cache.get(KEY)).to.equal(undefined)
    cache.put({...KEY, contentHash: 'after'}, lineage('b.sql'))
    expect(cacheStats(file).entries).to.equal(1)
  })

  it('never throws from put, and logs a repeated failure once', () => {
    const logger = fakeLogger()
    const cache = openCache({logger})
    const bad = {...lineage('a.sql'), extra: 1n} as unknown as FileLineage // BigInt: JSON.stringify throws
    expect(() => {
      cache.put(KEY, bad)
      cache.put(KEY, bad)
    }).not.to.throw()
    expect(logger.warn.callCount).to.equal(1)
    expect(cache.get(KEY)).to.equal(undefined)
    cache.close()
    expect(cache.get(KEY)).to.equal(undefined)
    expect(() => {
      cache.put(KEY, lineage('a.sql'))
    }).not.to.throw()
  })

  it('treats an entry that is not lineage JSON as a miss', () => {
    const cache = openCache()
    cache.put(KEY, lineage('a.sql'))
    const db = openDatabase(file)
    db.prepare(`UPDATE entries SET lineage = '{"half'`).run()
    db.close()
    expect(cache.get(KEY)).to.equal(undefined)
    expect(cache.stats()).to.include({hits: 0, misses: 1})
  })

  it('refuses to open a SQLite database that is not a parse cache, and leaves it untouched', () => {
    ParseCache.open(file).close()
    rmSync(file)
    const db = openDatabase(file)
    db.exec('CREATE TABLE invoices (id INTEGER)')
    db.close()
    const before = readFileSync(file)
    expect(() => ParseCache.open(file))
      .to.throw(/not a lineage parse cache/)
      .with.property('code', 'E_CACHE')
    expect(() => clearCache(file)).to.throw(/not a lineage parse cache/)
    expect(readFileSync(file).equals(before)).to.equal(true)
    expect(cacheStats(file).status).to.equal('foreign')
  })

  it('never takes a new cache for a foreign database while another process is creating its schema', () => {
    // `cache clear` and the watcher's workers open a new file at the same moment. The creator commits between
    // the reader's statements here, which is the interleaving that once made `cache clear` refuse the file.
    mkdirSync(dirname(file), {recursive: true})
    const reader = openDatabase(file) // creates the empty file
    let created = false
    const createAfterFirstRead = <T>(value: T): T => {
      if (!created) {
        created = true
        closeQuietly(openCacheDb(file, {create: true}))
      }
      return value
    }
    const statement = (stmt: object): object =>
      new Proxy(stmt, {
        get(target, prop, receiver) {
          const value: unknown = Reflect.get(target, prop, receiver)
          if (typeof value !== 'function') return value
          if (prop === 'pluck' || prop === 'raw' || prop === 'expand')
            return (...args: unknown[]): unknown => {
              Reflect.apply(value, target, args)
              return receiver
            }
          return (...args: unknown[]) => createAfterFirstRead(Reflect.apply(value, target, args) as unknown)
        },
      })
    const interleaved = new Proxy(reader, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target)
        if (prop === 'pragma' && typeof value === 'function')
          return (...args: unknown[]) => createAfterFirstRead(Reflect.apply(value, target, args) as unknown)
        if (prop === 'prepare' && typeof value === 'function')
          return (...args: unknown[]) => statement(Reflect.apply(value, target, args) as object)
        return value
      },
    })
    try {
      expect(schemaState(interleaved)).to.equal('empty')
      expect(created, 'the schema was created during the read').to.equal(true)
      expect(schemaState(reader)).to.equal('ours')
    } finally {
      reader.close()
    }
    expect(clearCache(file).action).to.equal('emptied')
  })

  it('throws E_CACHE at open when the folder cannot be created', () => {
    writeFileSync(join(tmp.dir, 'blocker'), '')
    expect(() => ParseCache.open(join(tmp.dir, 'blocker', 'cache.sqlite')))
      .to.throw(/cannot be opened/)
      .with.property('code', 'E_CACHE')
  })

  it('works inside a worker thread: a put there is a hit here', async () => {
    const moduleUrl = new URL('../../../src/core/cache/parse-cache.ts', import.meta.url).href
    // The worker loads the TypeScript source through tsx, as the tests do.
    const code = `
      const {parentPort, workerData} = require('node:worker_threads')
      import('tsx/esm/api')
        .then(({register}) => { register(); return import(workerData.moduleUrl) })
        .then(({ParseCache}) => {
          const cache = ParseCache.open(workerData.file)
          cache.put(workerData.key, workerData.lineage)
          cache.get(workerData.key)
          cache.close()
          parentPort.postMessage('done')
        })
        .catch((error) => parentPort.postMessage(String(error && error.stack || error)))`
    const main = openCache()
    const worker = new Worker(code, {eval: true, workerData: {moduleUrl, file, key: KEY, lineage: lineage('w.sql')}})
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await worker.terminate()
    expect(message).to.equal('done')
    expect(main.get(KEY)?.targets).to.deep.equal(['mart.orders'])
    expect(main.stats()).to.include({entries: 1, hits: 2, misses: 0})
  })
})

describe('cache administration', () => {
  const tmp = useTmpDir()
  let file: string
  beforeEach(() => {
    file = join(tmp.dir, 'parse-cache.sqlite')
  })

  it('reports a missing file as missing and does not create it', () => {
    const stats = cacheStats(file)
    expect(stats).to.include({status: 'missing', entries: 0, sizeBytes: 0})
    expect(checkCache(file)).to.deep.equal({ok: true, problems: [], badEntries: 0})
    expect(clearCache(file)).to.include({action: 'missing', entries: 0})
    expect(existsSync(file)).to.equal(false)
  })

  it('reports a file of random bytes as corrupt without throwing', () => {
    writeFileSync(file, randomBytes(8192))
    const stats = cacheStats(file)
    expect(stats.status).to.equal('corrupt')
    expect(stats.problem).to.match(/not a database/)
    expect(checkCache(file).ok).to.equal(false)
  })

  it('finds damaged pages with the integrity check', () => {
    seed(file, 300)
    expect(checkCache(file)).to.deep.equal({ok: true, problems: [], badEntries: 0})
    damagePages(file)
    const check = checkCache(file)
    expect(check.ok).to.equal(false)
    expect(check.problems).to.have.length.greaterThan(0)
  })

  it('empties the cache while another connection keeps working on it', () => {
    const watcher = ParseCache.open(file)
    try {
      watcher.putMany([1, 2, 3].map((i) => ({key: {...KEY, contentHash: `k${i}`}, lineage: lineage(`${i}.sql`)})))
      watcher.get({...KEY, contentHash: 'k1'})
      watcher.flush()
      const result = clearCache(file)
      expect(result).to.include({action: 'emptied', entries: 3, reason: null})
      expect(result.bytesFreed).to.equal(result.bytesBefore - result.bytesAfter)
      expect(cacheStats(file)).to.include({entries: 0, hits: 0, misses: 0})
      expect(watcher.get({...KEY, contentHash: 'k1'})).to.equal(undefined)
      watcher.put(KEY, lineage('a.sql'))
      expect(watcher.get(KEY)).not.to.equal(undefined)
      expect(cacheStats(file).entries).to.equal(1)
      expect(checkCache(file).ok).to.equal(true)
    } finally {
      watcher.close()
    }
  })

  it('removes and recreates a corrupt file, and an open cache moves to the new one', () => {
    const {clock, advance} = manualClock()
    const watcher = ParseCache.open(file, {clock})
    try {
      watcher.put(KEY, lineage('a.sql'))
      writeFileSync(file, randomBytes(32 * 1024))
      const result = clearCache(file)
      expect(result.action).to.equal('recreated')
      expect(result.entries).to.equal(null)
      expect(result.reason).to.match(/not a database/)
      expect(cacheStats(file)).to.include({status: 'ok', entries: 0})
      expect(
        readdirSync(tmp.dir).filter((f) => f.includes('.corrupt-')),
        'clear removes, not moves',
      ).to.deep.equal([])
      advance(1500)
      watcher.put({...KEY, contentHash: 'new'}, lineage('b.sql'))
      expect(cacheStats(file).entries).to.equal(1)
    } finally {
      watcher.close()
    }
  })

  it('gives back the space of a cleared cache', () => {
    seed(file, 2000)
    const before = statSync(file).size
    const result = clearCache(file)
    expect(result.entries).to.equal(2000)
    expect(result.bytesFreed).to.be.greaterThan(before / 2)
  })

  it('reports a cache it cannot open as unreadable, not as corrupt, and will not remove it', () => {
    mkdirSync(file) // a folder where the file should be: SQLite cannot open it, even as root
    expect(cacheStats(file)).to.include({status: 'unreadable'})
    expect(() => checkCache(file))
      .to.throw(/cannot check/)
      .with.property('code', 'E_CACHE')
    expect(() => clearCache(file))
      .to.throw(/cannot clear/)
      .with.property('code', 'E_CACHE')
    expect(statSync(file).isDirectory()).to.equal(true)
  })
})
