import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {FOLDER_CONFIG_FILE, FolderDefaults} from '../../../src/core/ops/folder-config.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('.lineage.json: per-folder session defaults', () => {
  const tmp = useTmpDir()
  const put = (folder: string, content: unknown): string => {
    const dir = join(tmp.dir, folder)
    mkdirSync(dir, {recursive: true})
    const file = join(dir, FOLDER_CONFIG_FILE)
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
    return file
  }

  it('the nearest file wins key by key, over the files above it and over the settings', () => {
    put('repo', {defaultDatabase: 'dw', defaultSchema: 'core'})
    put('repo/sales', {defaultSchema: 'sales'})
    mkdirSync(join(tmp.dir, 'repo/sales/daily'), {recursive: true})
    const f = new FolderDefaults({defaultDatabase: 'env_db', defaultSchema: 'env_schema'}, join(tmp.dir, 'repo'))
    expect(f.for(join(tmp.dir, 'repo/load.sql'))).to.deep.equal({defaultDatabase: 'dw', defaultSchema: 'core'})
    expect(f.for(join(tmp.dir, 'repo/sales/daily/x.sql'))).to.deep.equal({
      defaultDatabase: 'dw',
      defaultSchema: 'sales',
    })
    expect(f.problems).to.deep.equal([])
  })

  it('reads nothing above the top folder', () => {
    put('', {defaultSchema: 'outside'})
    mkdirSync(join(tmp.dir, 'raw'), {recursive: true})
    const f = new FolderDefaults({defaultSchema: 'env'}, join(tmp.dir, 'raw'))
    expect(f.for(join(tmp.dir, 'raw/a.sql'))).to.deep.equal({defaultSchema: 'env'})
  })

  it('without a top, stops at the folder holding .git', () => {
    put('', {defaultSchema: 'above-the-repository'})
    put('repo', {defaultDatabase: 'dw'})
    mkdirSync(join(tmp.dir, 'repo/.git'), {recursive: true})
    mkdirSync(join(tmp.dir, 'repo/sql'), {recursive: true})
    expect(new FolderDefaults({}).for(join(tmp.dir, 'repo/sql/a.sql'))).to.deep.equal({defaultDatabase: 'dw'})
  })

  it('ignores an invalid file as a whole, says why, keeps the folders above, and drops it once fixed', () => {
    put('raw', {defaultSchema: 'core'})
    const bad = put('raw/sales', {defaultSchema: 'sales', defaultWarehouse: 'x'})
    const f = new FolderDefaults({}, join(tmp.dir, 'raw'))
    expect(f.for(join(tmp.dir, 'raw/sales/a.sql'))).to.deep.equal({defaultSchema: 'core'})
    expect(f.problems).to.deep.equal([
      `${bad} ignored: unknown key "defaultWarehouse" (the keys are defaultDatabase and defaultSchema)`,
    ])
    for (const [content, why] of [
      ['{"defaultSchema": ', 'not JSON: '],
      [{defaultSchema: ''}, 'defaultSchema must not be empty'],
      [{defaultSchema: 7}, 'defaultSchema must be a string'],
      [['sales'], 'must be a JSON object'],
    ] as const) {
      put('raw/sales', content)
      f.forget()
      expect(f.for(join(tmp.dir, 'raw/sales/a.sql'))).to.deep.equal({defaultSchema: 'core'})
      expect(f.problems).to.have.length(1)
      expect(f.problems[0]).to.include(`${bad} ignored: ${why}`)
    }
    // Fixed: the next look at the problems reads it again, without waiting for a file of that folder.
    put('raw/sales', {defaultSchema: 'sales'})
    expect(f.problems).to.deep.equal([])
    rmSync(bad)
    f.forget()
    expect(f.for(join(tmp.dir, 'raw/sales/a.sql'))).to.deep.equal({defaultSchema: 'core'})
  })

  it('keeps what it read until forget(), then reads the files again', () => {
    put('raw', {defaultSchema: 'one'})
    const f = new FolderDefaults({}, join(tmp.dir, 'raw'))
    expect(f.for(join(tmp.dir, 'raw/a.sql'))).to.deep.equal({defaultSchema: 'one'})
    put('raw', {defaultSchema: 'two'})
    expect(f.for(join(tmp.dir, 'raw/b.sql'))).to.deep.equal({defaultSchema: 'one'})
    f.forget()
    expect(f.for(join(tmp.dir, 'raw/b.sql'))).to.deep.equal({defaultSchema: 'two'})
  })
})
