import {mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {cliRun} from '../faults/support/cli.js'
import {serviceEnv} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'

// A first scan of a big repository queues every file at once. At 125k files the batcher used to throw
// "Maximum call stack size exceeded" (issue 18). The full sizes (200k files, 1M events) are measured by
// `lineage bench --scale` and docs/performance.md; this is the size that fits CI's time.
const FILES = Number(process.env.LINEAGE_SCALE_FILES ?? 20_000)

function countOutputs(dir: string): number {
  let n = 0
  for (const entry of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (entry.isFile() && entry.name.endsWith('.lineage.json')) n++
  }
  return n
}

describe(`scale: watch --once over ${FILES} tiny files`, function () {
  this.timeout(600_000)
  const tmp = useTmpDir()

  it('ingests every file, writes every output and exits 0', async () => {
    const env = serviceEnv(tmp.dir, {BATCH_SIZE_THRESHOLD: '500'})
    const raw = env.LINEAGE_RAW_DIR!
    const out = env.LINEAGE_OUT_DIR!
    for (let d = 0; d * 1000 < FILES; d++) {
      mkdirSync(join(raw, `d${d}`), {recursive: true})
      for (let i = d * 1000; i < Math.min(FILES, (d + 1) * 1000); i++) {
        writeFileSync(join(raw, `d${d}`, `f${i}.sql`), `INSERT INTO w.t${i % 97} (a) SELECT a FROM r.s${i}_src;\n`)
      }
    }
    const run = await cliRun(['watch', raw, out, '--once', '--json'], env, {cwd: tmp.dir, timeoutMs: 540_000})
    expect(run.code, run.stderr).to.equal(0)
    const summary = JSON.parse(run.stdout) as {files: number; failed: number; statements: number}
    expect([summary.files, summary.failed, summary.statements]).to.deep.equal([FILES, 0, FILES])
    expect(countOutputs(out)).to.equal(FILES)
  })
})
