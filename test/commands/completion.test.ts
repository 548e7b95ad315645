import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {runCommand} from '@oclif/test'
import {expect} from 'chai'

import {FEATURES, TUNABLES} from '../../src/core/index.js'
import {useTmpDir, withEnv} from '../helpers/tmp.js'

const ZSH_DRIVER = fileURLToPath(new URL('../helpers/zsh-complete.zsh', import.meta.url))
const hasZsh = spawnSync('zsh', ['--version']).status === 0

describe('completion', () => {
  const tmp = useTmpDir()

  /** The script "lineage completion SHELL" prints, saved to a file; the plugin's cache goes to the tmp folder. */
  async function script(shell: 'bash' | 'zsh'): Promise<string> {
    const {stdout, error} = await withEnv({LINEAGE_CACHE_DIR: join(tmp.dir, 'cache')}, () =>
      runCommand(`completion ${shell}`),
    )
    expect(error).to.equal(undefined)
    const file = join(tmp.dir, `completion.${shell}`)
    writeFileSync(file, stdout)
    return file
  }

  /** COMPREPLY after the completion function runs on LINE (bash words; the last one is being completed). */
  function bashComplete(file: string, line: string): string[] {
    const res = spawnSync(
      'bash',
      [
        '-c',
        `source "$0"; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _lineage_completion; printf '%s\\n' "\${COMPREPLY[@]}"`,
        file,
      ],
      {encoding: 'utf8'},
    )
    expect(res.stderr).to.equal('')
    expect(res.status).to.equal(0)
    return res.stdout.split('\n').filter(Boolean)
  }

  describe('bash', () => {
    it('offers the feature names at "rollback gradual", "flags enable" and "flags disable"', async () => {
      const file = await script('bash')
      expect(bashComplete(file, 'lineage rollback gradual par')).to.have.members(['parallel', 'parse-cache'])
      expect(bashComplete(file, 'lineage rollback gradual ""')).to.have.members([...FEATURES])
      expect(bashComplete(file, 'lineage flags enable --reason "p95 up" ne')).to.deep.equal(['neo4j-batch'])
      expect(bashComplete(file, 'lineage flags disable --dry-run met')).to.deep.equal(['metrics'])
    })

    it('offers the tunable keys at "flags set" and "flags unset", and nothing after the key', async () => {
      const file = await script('bash')
      expect(bashComplete(file, 'lineage flags set INGEST')).to.deep.equal(['INGEST_WORKERS'])
      expect(bashComplete(file, 'lineage flags unset ""')).to.have.members(TUNABLES.map((t) => t.key))
      // bash splits --reason=x into "--reason" "=" "x": x is the flag's value, not the key
      expect(bashComplete(file, 'lineage flags set --reason = x B')).to.deep.equal(['BATCH_SIZE_THRESHOLD'])
      expect(bashComplete(file, 'lineage flags set INGEST_WORKERS ""')).to.deep.equal([])
    })

    it("leaves commands and flags to the plugin's function", async () => {
      const file = await script('bash')
      expect(bashComplete(file, 'lineage ro')).to.include('rollback')
      expect(bashComplete(file, 'lineage rollback gr')).to.deep.equal(['gradual'])
      expect(bashComplete(file, 'lineage flags set --dr')).to.deep.equal(['--dry-run'])
      expect(bashComplete(file, 'lineage rollback gradual --reason ""')).to.deep.equal([])
    })
  })

  describe('zsh', function () {
    before(function () {
      // CI installs zsh (scripts/ci/apt-ensure.sh zsh zsh): there a missing zsh is a failure, not a skip.
      if (!hasZsh && process.env.CI === 'true')
        throw new Error('zsh is not installed: run scripts/ci/apt-ensure.sh zsh zsh')
      if (!hasZsh) this.skip()
    })

    /** The candidates a real zsh (compinit, the script sourced) offers when Tab is pressed after LINE. */
    function zshComplete(file: string, line: string): string[] {
      const res = spawnSync('zsh', ['-f', ZSH_DRIVER, file, line], {encoding: 'utf8', timeout: 15_000})
      expect(res.status).to.equal(0)
      return [...res.stdout.matchAll(/<<<([^>]*)>>>/g)].flatMap((m) => m[1]!.split(' '))
    }

    it('is valid zsh', async () => {
      const res = spawnSync('zsh', ['-n', await script('zsh')], {encoding: 'utf8'})
      expect(res.stderr).to.equal('')
      expect(res.status).to.equal(0)
    })

    it('offers feature names and tunable keys, and leaves commands to the plugin', async () => {
      const file = await script('zsh')
      expect(zshComplete(file, 'lineage rollback gradual par')).to.have.members(['parallel', 'parse-cache'])
      expect(zshComplete(file, 'lineage flags set INGEST')).to.deep.equal(['INGEST_WORKERS'])
      expect(zshComplete(file, 'lineage rollback gr')).to.deep.equal(['gradual'])
    })
  })
})
