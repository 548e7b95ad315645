/**
 * Files in a folder that appears while watching: chokidar lists a new folder before it watches it, so a file
 * written in between is never reported by it (paulmillr/chokidar#1471); the watcher lists the folder again.
 */
import {mkdirSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {filesMissedIn, startWatcher} from '../../../src/core/ingest/watcher.js'
import {silentLogger} from '../../../src/core/index.js'
import {waitFor} from '../../helpers/service.js'
import {useTmpDir} from '../../helpers/tmp.js'

describe('files in a new folder', () => {
  const tmp = useTmpDir()

  it('filesMissedIn: files not reported yet and settled, not folders, not files still changing', () => {
    const dir = join(tmp.dir, 'new')
    mkdirSync(join(dir, 'sub'), {recursive: true})
    const old = new Date(Date.now() - 10_000)
    for (const name of ['a.sql', 'b.sql', 'c.sql']) {
      writeFileSync(join(dir, name), 'SELECT 1;')
      utimesSync(join(dir, name), old, old)
    }
    writeFileSync(join(dir, 'writing.sql'), 'SELECT')
    const reported = new Set([join(dir, 'b.sql')])
    expect(filesMissedIn(dir, reported, Date.now() - 1000)).to.deep.equal([join(dir, 'a.sql'), join(dir, 'c.sql')])
    expect(filesMissedIn(join(tmp.dir, 'gone'), reported, Date.now())).to.deep.equal([])
  })

  it('a running watcher reports every file of folders created after it started, each once or more', async () => {
    const raw = join(tmp.dir, 'raw')
    mkdirSync(raw)
    const seen = new Set<string>()
    const watcher = await startWatcher({
      rawDir: raw,
      extensions: ['.sql'],
      poll: false,
      settleMs: 50,
      logger: silentLogger,
      onEvent: (op, rel) => {
        if (op === 'upsert') seen.add(rel)
      },
      onError: (error) => {
        throw error
      },
    })
    try {
      const expected: string[] = []
      for (const folder of ['good', 'bad', 'deep/er']) {
        mkdirSync(join(raw, folder), {recursive: true})
        for (let i = 0; i < 10; i++) {
          writeFileSync(join(raw, folder, `${i}.sql`), `SELECT ${i};`)
          expected.push(join(folder, `${i}.sql`))
        }
      }
      await waitFor('every file reported', () => expected.every((rel) => seen.has(rel)), 10_000)
      expect([...seen].sort()).to.deep.equal(expected.sort())
    } finally {
      await watcher.close()
    }
  })
})
