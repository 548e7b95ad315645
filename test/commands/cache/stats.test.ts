import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {type CacheStatsResult, type FileLineage} from '../../../src/core/index.js'
import {ParseCache} from '../../../src/core/cache/parse-cache.js'
import {editCachedPayloads} from '../../helpers/cache-edit.js'
import {withEnv, useTmpDir} from '../../helpers/tmp.js'

const lineage: FileLineage = {
  path: 'a.sql',
  dialect: 'ansi',
  status: 'ok',
  sources: ['raw.a'],
  targets: ['mart.a'],
  statements: [],
  errors: [],
  parserVersion: '2.0.0',
}

interface ErrorOutput {
  error: {code: string; exit: number; message: string; hint?: string; details?: {badEntries: number | null}}
}

describe('cache stats', () => {
  const tmp = useTmpDir()
  let file: string
  const run = (argv: string) => withEnv({LINEAGE_CACHE_FILE: file}, () => runCommand(argv))

  beforeEach(() => {
    file = join(tmp.dir, 'parse-cache.sqlite')
  })

  /** Three entries under two parser versions, one hit and one miss. */
  function seed(): void {
    const cache = ParseCache.open(file)
    for (const [hash, version] of [
      ['a', '2.0.0'],
      ['b', '2.0.0'],
      ['c', '1.9.0'],
    ] as const) {
      cache.put({contentHash: hash, parserVersion: version, dialect: 'ansi'}, lineage)
    }
    cache.get({contentHash: 'a', parserVersion: '2.0.0', dialect: 'ansi'})
    cache.get({contentHash: 'z', parserVersion: '2.0.0', dialect: 'ansi'})
    cache.close()
  }

  /** Overwrite the pages after the first: the header is intact, the tables are not. */
  function damage(): void {
    const bytes = readFileSync(file)
    randomBytes(bytes.length - 4096).copy(bytes, 4096)
    writeFileSync(file, bytes)
  }

  it('says there is no cache yet when the file is missing, exits 0 and creates nothing', async () => {
    const {stdout, error} = await run('cache stats')
    expect(error).to.equal(undefined)
    expect(stdout).to.match(/No parse cache yet at .*parse-cache\.sqlite/)
    const json = await run('cache stats --json --check')
    expect(json.error).to.equal(undefined)
    expect(JSON.parse(json.stdout)).to.include({status: 'missing', entries: 0, file})
    expect(existsSync(file)).to.equal(false)
  })

  it('reports entries, hits, misses, hit rate and parser versions as JSON', async () => {
    seed()
    const {stdout, error} = await run('cache stats --json')
    expect(error).to.equal(undefined)
    const result = JSON.parse(stdout) as CacheStatsResult
    expect(result).to.include({file, status: 'ok', entries: 3, hits: 1, misses: 1, hitRate: 0.5, check: null})
    expect(result.parserVersions).to.deep.equal([
      {parserVersion: '2.0.0', entries: 2},
      {parserVersion: '1.9.0', entries: 1},
    ])
    expect(result.sizeBytes).to.be.greaterThan(0)
    expect(Date.parse(result.oldestEntry ?? '')).to.be.closeTo(Date.now(), 60_000)
  })

  it('prints short plain lines without colour codes', async () => {
    seed()
    const {stdout, error} = await run('cache stats')
    expect(error).to.equal(undefined)
    expect(stdout).to.match(/^Entries +3$/m)
    expect(stdout).to.match(/^Hits \/ misses +1 \/ 1, hit rate 50\.0%/m)
    expect(stdout).to.match(/^Parser versions +2\.0\.0 \(2\), 1\.9\.0 \(1\)$/m)
    expect(stdout).not.to.include('\u001B[')
  })

  it('--check passes a healthy cache with exit 0', async () => {
    seed()
    const {stdout, error} = await run('cache stats --check --json')
    expect(error).to.equal(undefined)
    expect(JSON.parse(stdout)).to.deep.include({check: {ok: true, problems: [], badEntries: 0}})
  })

  it('--check exits 1 with E_CACHE_CORRUPT and the clear hint on a damaged cache', async () => {
    seed()
    damage()
    const {stdout, error} = await run('cache stats --check --json')
    expect(error?.oclif?.exit).to.equal(1)
    const body = JSON.parse(stdout) as ErrorOutput
    expect(body.error.code).to.equal('E_CACHE_CORRUPT')
    expect(body.error.message).to.include(file)
    expect(body.error.hint).to.include('lineage cache clear')
  })

  it('--check finds a same-length change inside an entry: exit 1, E_CACHE_CORRUPT, the count in the JSON', async () => {
    seed()
    expect(editCachedPayloads(file, 'mart.a', 'mart.b')).to.equal(3)
    // The file itself is sound: without --check nothing is read that could show the change.
    expect((await run('cache stats')).error).to.equal(undefined)

    const json = await run('cache stats --check --json')
    expect(json.error?.oclif?.exit).to.equal(1)
    const body = JSON.parse(json.stdout) as ErrorOutput
    expect(body.error.code).to.equal('E_CACHE_CORRUPT')
    expect(body.error.details).to.deep.equal({badEntries: 3})
    expect(body.error.message).to.include('3 entries fail their checksum')

    const human = await run('cache stats --check')
    expect(human.error?.oclif?.exit).to.equal(1)
    expect(human.stdout).to.match(/^Checksums +3 bad entries$/m)
  })

  it('reports a file of random bytes as corrupt (exit 1), not as a crash', async () => {
    writeFileSync(file, randomBytes(10_000))
    const {stdout, error} = await run('cache stats')
    expect(stdout).to.match(/^Status +corrupt$/m)
    expect(error?.oclif?.exit).to.equal(1)
    expect(error?.message).to.match(/is corrupt: file is not a database/)
    expect(error?.message).to.include('lineage cache clear')
    expect((error as {code?: string} | undefined)?.code).to.equal('E_CACHE_CORRUPT')
  })
})
