import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {withEnv} from '../helpers/tmp.js'

interface ErrorOutput {
  error: {code: string; exit: number; message: string; hint?: string}
}

/** Usage errors come before any step runs: no Neo4j, no service, no files. */
describe('bench (usage)', () => {
  const run = (argv: string[]) => withEnv({NEO4J_URI: undefined}, () => runCommand(['bench', ...argv]))

  it('refuses an unknown step with exit 64', async () => {
    const {error} = await run(['--steps', 'turbo'])
    expect(error?.oclif?.exit).to.equal(64)
    expect(error?.message).to.match(/turbo/)
  })

  it('refuses --corpus together with --files with exit 64', async () => {
    const {error} = await run(['--corpus', '.', '--files', '10'])
    expect(error?.oclif?.exit).to.equal(64)
  })

  it('refuses a minimum speedup that is not a positive number with exit 64', async () => {
    const {error} = await run(['--min-speedup', 'fast'])
    expect(error?.oclif?.exit).to.equal(64)
  })

  it('refuses --min-speedup without the all-on step (E_USAGE, exit 64) and says how to fix it', async () => {
    const {stdout, error} = await run(['--steps', 'parse-cache', '--min-speedup', '5', '--json'])
    expect(error?.oclif?.exit).to.equal(64)
    const body = JSON.parse(stdout) as ErrorOutput
    expect(body.error).to.include({code: 'E_USAGE', message: '--min-speedup needs the all-on step'})
    expect(body.error.hint).to.include('--steps')
  })

  it('refuses a corpus folder without SQL files with exit 64', async () => {
    const {error} = await run(['--corpus', 'man', '--steps', 'all-on'])
    expect(error?.oclif?.exit).to.equal(64)
    expect(error?.message).to.match(/no SQL files \(\.sql\) in .*man/)
  })
})
