import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** Run a module in a fresh Node process and report which node-sql-parser files it loaded. */
function loaded(script: string): string[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  })
  return JSON.parse(out) as string[]
}

const LOADED = `import {createRequire} from 'node:module'
const cache = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('node-sql-parser'))
console.log(JSON.stringify(cache.map((k) => k.slice(k.indexOf('node-sql-parser')))))`

describe('sql extractor start-up cost', () => {
  it('importing the core loads no grammar', () => {
    const files = loaded(`await import('./src/core/index.ts')\n${LOADED}`)
    expect(files.filter((f) => f.includes('/build/'))).to.deep.equal([])
  })

  it('the first parse loads only the grammars it needs', () => {
    // A subquery in WHERE is beyond the fast path, so the first grammar of ansi is needed, and only it.
    const files = loaded(
      `const {extractLineage} = await import('./src/core/sql/index.ts')\nextractLineage('SELECT a FROM t WHERE a IN (SELECT b FROM u)', {path: 'x', dialect: 'ansi'})\n${LOADED}`,
    )
    expect(files.filter((f) => f.includes('/build/'))).to.deep.equal(['node-sql-parser/build/mysql.js'])
  })

  it('a query the fast path reads loads no grammar', () => {
    const files = loaded(
      `const {extractLineage} = await import('./src/core/sql/index.ts')\nextractLineage('INSERT INTO s SELECT a FROM t', {path: 'x', dialect: 'ansi'})\n${LOADED}`,
    )
    expect(files.filter((f) => f.includes('/build/'))).to.deep.equal([])
  })
})
