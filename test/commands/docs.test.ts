import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {Config} from '@oclif/core'
import {expect} from 'chai'

import {EXIT_CODE_TABLE} from '../../src/core/exit-codes.js'

const root = process.cwd()
const manDir = join(root, 'man', 'man1')

describe('man pages, command reference and help (generated from the commands)', () => {
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

  it('docs/commands has a page per topic with every command and its flags, and README links each page', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const ours = config.commands.filter((c) => !c.hidden && c.pluginName === config.name)
    for (const cmd of ours) {
      const topic = cmd.id.split(':')[0]!
      const file = join(root, 'docs', 'commands', `${topic}.md`)
      expect(existsSync(file), `docs/commands/${topic}.md`).to.equal(true)
      const page = readFileSync(file, 'utf8')
      const section = page.split(`## \`lineage ${cmd.id.split(':').join(' ')}`)[1]?.split('\n## ')[0]
      expect(section, `${cmd.id} in docs/commands/${topic}.md`).to.be.a('string')
      for (const [name, flag] of Object.entries(cmd.flags)) {
        if (!flag.hidden) expect(section, `${cmd.id} --${name}`).to.include(`--${name}`)
      }
      expect(readme, `README links docs/commands/${topic}.md`).to.include(`](docs/commands/${topic}.md)`)
    }
    // The reference lives in docs/commands and the man pages, no longer in the README.
    expect(readme).not.to.match(/^## `lineage /m)
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
