import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {Config} from '@oclif/core'
import {expect} from 'chai'

import {EXIT_CODE_TABLE} from '../../src/core/exit-codes.js'

const root = process.cwd()
const manDir = join(root, 'man', 'man1')

describe('man pages and help (generated from the commands)', () => {
  let config: Config
  before(async () => {
    config = await Config.load(root)
  })

  it('every command has a man page, listed in package.json, with at least one example and every exit code', () => {
    const pages = new Set(readdirSync(manDir))
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {man: string[]}
    const ours = config.commands.filter((c) => c.pluginName === config.name)
    expect(ours.length).to.be.greaterThan(10)
    for (const cmd of ours) {
      const page = `lineage-${cmd.id.split(':').join('-')}.1`
      expect(pages, `man page for ${cmd.id}`).to.include(page)
      expect(pkg.man).to.include(`./man/man1/${page}`)
      expect(cmd.examples?.length ?? 0, `examples of ${cmd.id}`).to.be.greaterThan(0)
      const roff = readFileSync(join(manDir, page), 'utf8')
      expect(roff).to.match(/^\.SH "?EXAMPLES"?$/m)
      for (const {code} of EXIT_CODE_TABLE) expect(roff, `${page} exit code ${code}`).to.include(`\\fB${code}\\fP`)
    }
    expect(pages).to.include('lineage.1')
  })

  it('every command supports --json and documents each flag', () => {
    for (const cmd of config.commands.filter((c) => c.pluginName === config.name)) {
      expect(cmd.flags, cmd.id).to.have.property('json')
      for (const [name, flag] of Object.entries(cmd.flags)) {
        expect(flag.description ?? flag.summary, `${cmd.id} --${name}`)
          .to.be.a('string')
          .and.not.equal('')
      }
      expect(cmd.summary, cmd.id).to.match(/^[^.]+[^.]$/)
    }
  })
})
