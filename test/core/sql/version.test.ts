import {createHash} from 'node:crypto'
import {readdirSync, readFileSync} from 'node:fs'

import {expect} from 'chai'

import {PARSER_VERSION} from '../../../src/core/sql/index.js'
import {EXTRACTOR_REVISION} from '../../../src/core/sql/version.js'

/** Modules whose changes cannot change extraction output (file reading). */
const NOT_OUTPUT = new Set(['parse-files.ts'])
const SQL_DIR = new URL('../../../src/core/sql/', import.meta.url)
const RECORD = new URL('../../fixtures/sql/parser-source-hash.json', import.meta.url)

function sourceHash(): string {
  const hash = createHash('sha256')
  for (const name of readdirSync(SQL_DIR)
    .filter((n) => n.endsWith('.ts') && !NOT_OUTPUT.has(n))
    .sort()) {
    hash
      .update(name)
      .update('\0')
      .update(readFileSync(new URL(name, SQL_DIR)))
      .update('\0')
  }
  return hash.digest('hex')
}

describe('sql parser version', () => {
  it('names the extractor revision and the grammar package version', () => {
    expect(PARSER_VERSION).to.match(/^lineage-sql\/\d+\+node-sql-parser\/\d+\.\d+\.\d+$/)
    expect(PARSER_VERSION).to.contain(`lineage-sql/${EXTRACTOR_REVISION}+`)
  })

  it('is bumped whenever the extractor source changes (it keys the parse cache)', () => {
    const recorded = JSON.parse(readFileSync(RECORD, 'utf8')) as {revision: number; sha256: string}
    const now = sourceHash()
    const hint =
      `src/core/sql changed since revision ${recorded.revision}: bump EXTRACTOR_REVISION in src/core/sql/version.ts ` +
      `to ${recorded.revision + 1} and record {"revision": ${recorded.revision + 1}, "sha256": "${now}"} in ` +
      'test/fixtures/sql/parser-source-hash.json'
    expect(recorded.sha256, hint).to.equal(now)
    expect(EXTRACTOR_REVISION, 'EXTRACTOR_REVISION and the recorded revision differ').to.equal(recorded.revision)
  })
})
