import {existsSync, readFileSync, renameSync} from 'node:fs'

import {expect} from 'chai'

import {serviceEnv, waitFor, writeSql} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cli, type Cli, reap} from './support/cli.js'

const text = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '')

describe('fault: logrotate moves the log of a running lineage watch', function () {
  this.timeout(60_000)
  let child: Cli | undefined
  const tmp = useTmpDir({prefix: 'lineage-fault-', cleanup: () => reap(child)})

  it('SIGHUP reopens the log at its path, the service runs on, and SIGTERM leaves every line written', async () => {
    const env = serviceEnv(tmp.dir)
    const log = env.LINEAGE_LOG_FILE!
    child = cli(['watch', env.LINEAGE_RAW_DIR!, env.LINEAGE_OUT_DIR!], env, {cwd: tmp.dir})
    const c = child
    await waitFor('the start logged', () => text(log).includes('reconcile:') || c.exit() !== undefined)
    // The handlers are installed once startService has returned, a moment after its last start-up line.
    await new Promise((resolve) => setTimeout(resolve, 300))

    // What logrotate does without copytruncate: move the file away, then signal the service.
    renameSync(log, `${log}.1`)
    c.kill('SIGHUP')
    await waitFor('the log reopened at its path', () => existsSync(log) || c.exit() !== undefined)
    writeSql(env.LINEAGE_RAW_DIR!, 'broken.sql', 'THIS IS NOT SQL AT ALL;\n')
    await waitFor('the failure logged', () => text(log).includes('broken.sql') || c.exit() !== undefined)
    expect(c.exit(), c.stderr()).to.equal(undefined)

    c.kill('SIGTERM')
    expect((await c.exited).code, c.stderr()).to.equal(0)
    const lines = (file: string): {msg: string; level: string}[] =>
      text(file)
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as {msg: string; level: string})
    expect(lines(`${log}.1`).some((l) => l.msg.startsWith('reconcile:'))).to.equal(true)
    expect(lines(`${log}.1`).some((l) => l.msg.includes('broken.sql'))).to.equal(false)
    // Its failure is told once, in the new file (beside the per-statement warn lines of issue 14).
    expect(lines(log).filter((l) => l.msg.includes('broken.sql') && l.level === 'error')).to.have.length(1)
  })
})
