import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {cacheStats, type ClearResult, type FileLineage} from '../../../src/core/index.js'
import {ParseCache} from '../../../src/core/cache/parse-cache.js'
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
const key = (contentHash: string) => ({contentHash, parserVersion: '2.0.0', dialect: 'ansi'})

describe('cache clear', () => {
  const tmp = useTmpDir()
  let file: string
  const run = (argv: string) =>
    withEnv({LINEAGE_CACHE_FILE: file, LINEAGE_STATE_DIR: join(tmp.dir, 'state'), LINEAGE_ACTOR: 'oncall'}, () =>
      runCommand(argv),
    )

  beforeEach(() => {
    file = join(tmp.dir, 'parse-cache.sqlite')
  })

  it('empties the cache while a watcher holds it open, and the watcher keeps working', async () => {
    const watcher = ParseCache.open(file)
    try {
      watcher.putMany(['a', 'b'].map((h) => ({key: key(h), lineage})))
      watcher.get(key('a'))
      watcher.flush()
      const {stdout, error} = await run('cache clear --json')
      expect(error).to.equal(undefined)
      const result = JSON.parse(stdout) as ClearResult
      expect(result).to.include({file, action: 'emptied', entries: 2, reason: null})
      expect(cacheStats(file)).to.include({status: 'ok', entries: 0, hits: 0})
      expect(watcher.get(key('a'))).to.equal(undefined)
      watcher.put(key('c'), lineage)
      expect(watcher.get(key('c'))).not.to.equal(undefined)
      expect(cacheStats(file).entries).to.equal(1)
    } finally {
      watcher.close()
    }
  })

  it('says what it removed in one line', async () => {
    const cache = ParseCache.open(file)
    cache.put(key('a'), lineage)
    cache.close()
    const {stdout, error} = await run('cache clear')
    expect(error).to.equal(undefined)
    expect(stdout).to.match(/^Cleared the parse cache .*: removed 1 entry, freed .*B\.$/m)
  })

  it('removes a corrupt file and recreates an empty cache, saying so', async () => {
    writeFileSync(file, randomBytes(20_000))
    const {stdout, error} = await run('cache clear')
    expect(error).to.equal(undefined)
    expect(stdout).to.match(/was damaged \(file is not a database.*\); removed it .* and created an empty one/)
    expect(cacheStats(file)).to.include({status: 'ok', entries: 0})
  })

  it('has nothing to do without a cache file, and does not create one', async () => {
    const {stdout, error} = await run('cache clear --json')
    expect(error).to.equal(undefined)
    expect(JSON.parse(stdout)).to.include({action: 'missing', entries: 0})
    expect(existsSync(file)).to.equal(false)
  })

  it('--reason is audited; damaged copies moved aside are listed by stats and removed by clear, which says so', async () => {
    const copy = `${file}.corrupt-20260101T000000Z`
    writeFileSync(copy, randomBytes(3000))
    writeFileSync(`${copy}-wal`, randomBytes(1000))
    const stats = await run('cache stats --json')
    expect(stats.error).to.equal(undefined)
    expect((JSON.parse(stats.stdout) as {corruptCopies: unknown[]}).corruptCopies).to.deep.equal([
      {file: copy, bytes: 4000},
    ])
    const human = await run('cache clear --reason "wrong lineage"')
    expect(human.error).to.equal(undefined)
    expect(human.stdout).to.match(/Removed 1 damaged copy\(ies\) moved aside earlier \(3\.9 KB\)/)
    expect(existsSync(copy)).to.equal(false)
    expect(existsSync(`${copy}-wal`)).to.equal(false)
    const audit = readFileSync(join(tmp.dir, 'state', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
    expect(JSON.parse(audit.at(-1) ?? '{}')).to.include({actor: 'oncall', reason: 'wrong lineage'})
    expect((JSON.parse(audit.at(-1) ?? '{}') as {action: string}).action).to.match(/^cache clear .*1 damaged copies/)
  })
})
