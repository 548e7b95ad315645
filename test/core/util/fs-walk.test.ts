/**
 * The recursive listing the reconcile walks both folders with: entries streamed to a callback in the order
 * listFiles returns them, `rel` built from the names and equal to path.relative of the entry.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'

import {expect} from 'chai'

import {eachFile, listFiles, type ListedFile} from '../../../src/core/util/fs.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('eachFile and listFiles', () => {
  const tmp = useTmpDir()

  it('list every non-directory below the root, depth first, rel relative to the root', () => {
    const root = join(tmp.dir, 'root')
    for (const rel of ['a.sql', 'd/b.sql', 'd/e/c.sql', 'd/.hidden/x.sql', '.dot.sql', 'z.txt']) {
      mkdirSync(dirname(join(root, rel)), {recursive: true})
      writeFileSync(join(root, rel), '')
    }
    const streamed: ListedFile[] = []
    eachFile(root, {skipDotNames: true}, (file) => streamed.push(file))

    expect(streamed.map((f) => f.rel).sort()).to.deep.equal(['a.sql', 'd/b.sql', 'd/e/c.sql', 'z.txt'])
    for (const f of streamed) expect(f.rel).to.equal(relative(root, f.abs))
    expect(listFiles(root, {skipDotNames: true})).to.deep.equal(streamed)
    expect(listFiles(root).map((f) => f.rel)).to.include.members(['.dot.sql', 'd/.hidden/x.sql'])
  })

  it('report a folder that cannot be listed, and go on', () => {
    const unreadable: string[] = []
    eachFile(join(tmp.dir, 'none'), {onUnreadable: (dir) => unreadable.push(dir)}, () => {
      throw new Error('nothing to list')
    })
    expect(unreadable).to.deep.equal([join(tmp.dir, 'none')])
  })
})
