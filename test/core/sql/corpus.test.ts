import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {generateCorpus, writeCorpus} from '../../../src/bench/corpus.js'
import {extractLineage} from '../../../src/core/sql/index.js'
import {tmpDir} from '../../helpers/tmp.js'

describe('generated warehouse corpus', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateCorpus({files: 5, seed: 1})
    expect(generateCorpus({files: 5, seed: 1})).to.deep.equal(a)
    expect(generateCorpus({files: 5, seed: 2}).map((f) => f.sql)).not.to.deep.equal(a.map((f) => f.sql))
  })

  it('has the promised shapes: long files, MERGE, CTEs, views, statements without lineage', () => {
    const files = generateCorpus({files: 120, seed: 42})
    const all = files.map((f) => f.sql).join('\n')
    expect(files.filter((f) => f.sql.split('\n').length >= 2000).length).to.be.at.least(2)
    for (const shape of [
      'MERGE INTO',
      'WITH base AS',
      'CREATE VIEW',
      'CREATE TABLE',
      'INSERT INTO',
      'UPDATE',
      'DELETE FROM',
      'DROP TABLE',
      'GRANT',
      'LEFT JOIN',
    ]) {
      expect(all, shape).to.contain(shape)
    }
  })

  it('parses cleanly: every statement ok, every written table found', () => {
    for (const file of generateCorpus({files: 40, seed: 9})) {
      const f = extractLineage(file.sql, {path: file.relPath, dialect: 'ansi'})
      expect(
        f.statements.filter((s) => s.status !== 'ok').map((s) => [s.line, s.error?.message]),
        file.relPath,
      ).to.deep.equal([])
      const written = new Set(f.statements.flatMap((s) => s.targets))
      expect(
        file.writes.filter((w) => !written.has(w)),
        file.relPath,
      ).to.deep.equal([])
    }
  })

  it('writes the files under a folder', () => {
    const tmp = tmpDir()
    try {
      const files = writeCorpus(tmp.dir, {files: 3, seed: 5})
      for (const f of files) expect(readFileSync(join(tmp.dir, f.relPath), 'utf8')).to.equal(f.sql)
    } finally {
      tmp.remove()
    }
  })
})
