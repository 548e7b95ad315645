import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {cliRun} from '../faults/support/cli.js'
import {serviceEnv, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

describe("watch: a folder .lineage.json names its files' default schema", function () {
  this.timeout(120_000)
  const tmp = useTmpDir()

  it('qualifies bare names per folder; --reingest applies a changed file; an invalid one is said and skipped', async () => {
    const env = serviceEnv(tmp.dir, {})
    const raw = env.LINEAGE_RAW_DIR!
    const sql = 'INSERT INTO t SELECT a FROM orders;\n'
    writeSql(raw, 'sales/a.sql', sql)
    writeSql(raw, 'b.sql', sql)
    const config = join(raw, 'sales', '.lineage.json')
    writeFileSync(config, JSON.stringify({defaultSchema: 'sales'}))
    const targets = (rel: string): string[] =>
      (
        JSON.parse(readFileSync(join(env.LINEAGE_OUT_DIR!, `${rel}.lineage.json`), 'utf8')) as {
          lineage: {targets: string[]}
        }
      ).lineage.targets
    const watch = async (extra: string[] = [], code = 0) => {
      const res = await cliRun(['watch', '--once', '--json', ...extra], env)
      expect(res.code, res.stderr).to.equal(code)
      return res
    }

    await watch()
    expect(targets('sales/a.sql')).to.deep.equal(['sales.t'])
    expect(targets('b.sql'), 'a folder above the file is not read').to.deep.equal(['t'])

    // The files did not change: only --reingest parses them again with the new defaults.
    writeFileSync(config, JSON.stringify({defaultSchema: 'mart'}))
    await watch()
    expect(targets('sales/a.sql')).to.deep.equal(['sales.t'])
    expect(JSON.parse((await watch(['--reingest'])).stdout)).to.deep.include({files: 2, failed: 0})
    expect(targets('sales/a.sql')).to.deep.equal(['mart.t'])

    writeFileSync(config, '{"defaultSchema": "mart",}')
    // Ingested all the same, but not as asked: --once says so and exits 1.
    const res = await watch(['--reingest'], 1)
    expect(res.stderr).to.include(`${config} ignored: not JSON`)
    expect((JSON.parse(res.stdout) as {ignoredFolderSettings: string[]}).ignoredFolderSettings).to.have.length(1)
    expect(targets('sales/a.sql'), 'the defaults above it apply').to.deep.equal(['t'])
  })
})
