/**
 * The start-up reconcile's two folder scans: what the service treats as its SQL files, and which outputs
 * it finds (and which leftovers of a dead writer it removes).
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {expect} from 'chai'

import type {Logger} from '../../../src/core/logger.js'
import {scanFolder, scanOutputs} from '../../../src/core/ingest/reconciler.js'
import {useTmpDir} from '../../helpers/tmp.js'

function put(root: string, rel: string, content = 'SELECT 1;'): string {
  const file = join(root, rel)
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, content)
  return file
}

function recordingLogger(): Logger & {warnings: string[]} {
  const warnings: string[] = []
  const ignore = (): void => undefined
  return {
    warnings,
    debug: ignore,
    info: ignore,
    warn: (message: string) => warnings.push(message),
    error: ignore,
  }
}

describe('the reconcile scans of the watched and the output folder', () => {
  const tmp = useTmpDir()

  it('scanFolder: SQL files below the folder, not dotfiles, dot-folders, other extensions, FIFOs or symlinks out', () => {
    const raw = join(tmp.dir, 'raw')
    put(raw, 'a.sql', 'SELECT 1;')
    put(raw, 'deep/er/b.SQL', 'SELECT 22;')
    put(raw, 'notes.txt')
    put(raw, '.hidden.sql')
    put(raw, '.git/c.sql')
    put(raw, 'x/.cache/d.sql')
    symlinkSync(join(raw, 'a.sql'), join(raw, 'inside-link.sql'))
    symlinkSync(put(tmp.dir, 'secret/outside.sql'), join(raw, 'outside-link.sql'))
    execFileSync('mkfifo', [join(raw, 'pipe.sql')])
    const logger = recordingLogger()

    const found = scanFolder(raw, ['.sql'], logger)

    expect([...found.keys()].sort()).to.deep.equal(['a.sql', 'deep/er/b.SQL', 'inside-link.sql'])
    expect(found.get('deep/er/b.SQL')?.size).to.equal('SELECT 22;'.length)
    expect(logger.warnings).to.deep.equal(['ignoring symlink that leads outside the watched folder: outside-link.sql'])
  })

  it('scanOutputs: the files whose lineage is in the folder; temp files of a dead writer removed, a live one kept', () => {
    const out = join(tmp.dir, 'out')
    put(out, 'a.sql.lineage.json', '{}')
    put(out, 'deep/b.sql.lineage.json', '{}')
    put(out, 'README.txt')
    // write-file-atomic's temp names carry no pid: a temp file older than this process was left by a writer
    // that died (one from before the release that moved to it too); one written since is a live writer's.
    const dead = put(out, 'deep/d.sql.lineage.json.3735928559')
    const deadOld = put(out, 'deep/f.sql.lineage.json.999999999.abcd1234.tmp')
    const before = new Date(performance.timeOrigin - 60_000)
    for (const file of [dead, deadOld]) utimesSync(file, before, before)
    const live = put(out, 'e.sql.lineage.json.4023233417')

    expect([...scanOutputs(out, recordingLogger())].sort()).to.deep.equal(['a.sql', 'deep/b.sql'])
    expect(existsSync(dead), 'temp file of a dead writer').to.equal(false)
    expect(existsSync(deadOld), 'temp file of a dead writer (earlier name)').to.equal(false)
    expect(existsSync(live), 'temp file of a live writer').to.equal(true)
  })

  it('scanOutputs: no output folder yet means no outputs', () => {
    expect(scanOutputs(join(tmp.dir, 'none'), recordingLogger()).size).to.equal(0)
  })
})
