import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {ParseCache} from '../../../src/core/cache/parse-cache.js'
import {runFileTask, type FileTask} from '../../../src/core/ingest/file-task.js'
import {useTmpDir} from '../../helpers/tmp.js'

// What watch does with LINEAGE_DEFAULT_SCHEMA: the file's lineage names qualified tables, and a parse
// cached under other defaults is never served for these.
describe('sql default names in the ingest file task', () => {
  const tmp = useTmpDir()

  function task(defaultSchema?: string): FileTask {
    const absPath = join(tmp.dir, 'bare.sql')
    writeFileSync(absPath, 'INSERT INTO t SELECT o.a FROM orders o JOIN sales.orders p ON o.id = p.id\n')
    return {absPath, relPath: 'bare.sql', dialect: 'ansi', maxBytes: 1 << 20, deadlineMs: 10_000, defaultSchema}
  }

  it('qualifies bare names by the default schema and keys the cache by it', () => {
    const cache = ParseCache.open(join(tmp.dir, 'cache.sqlite'))
    try {
      const plain = runFileTask(task(), {cache})
      const sales = runFileTask(task('sales'), {cache})
      const again = runFileTask(task('sales'), {cache})
      if (plain.kind !== 'parsed' || sales.kind !== 'parsed' || again.kind !== 'parsed') throw new Error('not parsed')
      expect([plain.lineage.sources, plain.lineage.targets]).to.deep.equal([['orders', 'sales.orders'], ['t']])
      expect(sales.cacheHit).to.equal(false)
      expect([sales.lineage.sources, sales.lineage.targets]).to.deep.equal([['sales.orders'], ['sales.t']])
      expect(again.cacheHit).to.equal(true)
      expect(again.lineage.sources).to.deep.equal(['sales.orders'])
    } finally {
      cache.close()
    }
  })
})
