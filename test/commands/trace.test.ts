import {existsSync} from 'node:fs'
import {join} from 'node:path'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import type {TraceResult} from '../../src/core/index.js'
import {writeOutputs} from '../core/query/corpus.js'
import {useTmpDir, withEnv} from '../helpers/tmp.js'

describe('trace (command)', () => {
  const tmp = useTmpDir({prefix: 'lineage-trace-cmd-'})
  const env = (): Record<string, string | undefined> => ({
    NEO4J_URI: undefined,
    LINEAGE_CACHE_FILE: join(tmp.dir, 'cache', 'parse-cache.sqlite'),
  })

  it('reads the output folder without Neo4j, keeps its index beside the parse cache, and answers --json', async () => {
    writeOutputs(join(tmp.dir, 'out'))
    const {stdout, error} = await withEnv(env(), () =>
      runCommand(['trace', 'mart.daily', '--downstream', '--out', join(tmp.dir, 'out'), '--json']),
    )
    expect(error).to.equal(undefined)
    const result = JSON.parse(stdout) as TraceResult
    expect(result).to.deep.include({name: 'mart.daily', level: 'table', backend: 'output', direction: 'downstream'})
    expect(result.downstream?.map((e) => `${e.target} ${e.file}:${e.line}`)).to.deep.equal([
      'mart.weekly mart/weekly.sql:1',
      'report.pnl mart/daily.sql:7',
    ])
    expect(existsSync(join(tmp.dir, 'cache', 'trace-index.sqlite'))).to.equal(true)
  })

  it('exits 64 on an unknown name, with the closest names in the error', async () => {
    writeOutputs(join(tmp.dir, 'out'))
    const {error} = await withEnv(env(), () => runCommand(['trace', 'mart.dialy', '--out', join(tmp.dir, 'out')]))
    expect(error?.oclif?.exit).to.equal(64)
    expect(error?.message).to.include('closest: mart.daily')
  })
})
