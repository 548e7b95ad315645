import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import type {ServiceHandle} from '../../../src/core/ingest/service.js'
import {editCachedPayloads} from '../../helpers/cache-edit.js'
import {runService, serviceEnv, waitFor, writeSql} from '../../helpers/service.js'
import {useTmpDir} from '../../helpers/tmp.js'

const SQL = 'INSERT INTO mart.orders SELECT id, amount FROM raw.orders;\n'

// The service's side of the parse cache checksum, on both paths a lookup takes: the pool workers and the main thread.
describe('the service and a cache entry that fails its checksum', function () {
  this.timeout(30_000)
  let service: ServiceHandle | undefined
  const tmp = useTmpDir({cleanup: async () => service?.stop()})

  for (const parallel of ['true', 'false']) {
    it(`parses the file again, logs it with the path and counts it (FEATURE_PARALLEL=${parallel})`, async () => {
      const env = serviceEnv(tmp.dir, {NEO4J_URI: undefined, FEATURE_PARALLEL: parallel})
      const out = (rel: string) => join(env.LINEAGE_OUT_DIR!, `${rel}.lineage.json`)
      const lineageOf = (rel: string): unknown => {
        const {lineage} = JSON.parse(readFileSync(out(rel), 'utf8')) as {lineage: Record<string, unknown>}
        return {...lineage, path: undefined}
      }
      service = await runService(env, {logLevel: 'warn'})
      const s = service
      writeSql(env.LINEAGE_RAW_DIR!, 'a.sql', SQL)
      await waitFor('a.sql in the output', () => existsSync(out('a.sql')), 10_000)

      expect(editCachedPayloads(env.LINEAGE_CACHE_FILE!, 'mart.orders', 'mart.ordars')).to.equal(1)
      writeSql(env.LINEAGE_RAW_DIR!, 'copy/b.sql', SQL) // same content: looked up in the cache
      await waitFor('copy/b.sql in the output', () => existsSync(out('copy/b.sql')), 10_000)

      expect(lineageOf('copy/b.sql')).to.deep.equal(lineageOf('a.sql'))
      expect(s.stats.cacheHits, 'the bad entry is no hit').to.equal(0)
      const metrics = await (await fetch(`http://127.0.0.1:${String(s.metricsPort)}/metrics`)).text()
      expect(metrics).to.match(/^parse_cache_corrupt_entries_total 1$/m)
      const warnings = readFileSync(env.LINEAGE_LOG_FILE!, 'utf8')
        .split('\n')
        .filter((l) => l.includes('copy/b.sql') && l.includes('fails its checksum'))
      expect(warnings).to.have.length(1)
    })
  }
})
