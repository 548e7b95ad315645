import {expect} from 'chai'
import {marked, type Tokens} from 'marked'

import type {ImpactResult} from '../../src/core/index.js'
import {cell, code, formatImpact, MARKDOWN_ROWS} from '../../src/ui/impact.js'

/** Names a SQL file can carry (quoted identifiers): pipes, backticks, HTML, mentions, line breaks. */
const HOSTILE = [
  'mart.a|b',
  'mart.`tick`',
  'mart.``two``',
  '`edge`',
  'mart.<img src=x onerror=alert(1)>',
  'mart.@octocat',
  'mart.*bold* [link](http://x)',
  'mart.line\nbreak | # heading',
  'mart.back\\|slash',
]

function result(names: string[]): ImpactResult {
  return {
    backend: 'output',
    range: 'origin/main...HEAD',
    files: [{path: 'a|`b`.sql', state: 'present', status: 'ok', added: names.length, removed: 1}],
    changed: true,
    added: names.map((n, i) => ({
      level: 'table' as const,
      source: n,
      target: `t.${i}`,
      file: 'a|`b`.sql',
      line: i + 1,
    })),
    removed: [{level: 'column', source: 's.x|y', target: 't.z', file: 'old.sql', line: 3}],
    downstream: names.map((n, i) => ({level: 'table' as const, name: n, depth: i + 1})),
  }
}

/** The text a code span renders to, through marked's inline lexer. */
function spanText(markdown: string): string {
  const [para] = marked.lexer(markdown) as Tokens.Paragraph[]
  expect(para?.tokens, markdown).to.have.length(1)
  const span = para!.tokens[0] as Tokens.Codespan
  expect(span.type, markdown).to.equal('codespan')
  return span.text
}

describe('impact output: Markdown for a pull-request comment', () => {
  it('a code span renders each hostile name as itself, as code (line breaks as spaces)', () => {
    for (const name of HOSTILE) {
      // marked keeps code span text HTML-escaped; what a reader sees is the unescaped text.
      const seen = spanText(code(name))
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&')
      expect(seen, name).to.equal(name.replace(/\n/g, ' '))
    }
  })

  it('keeps the table whole: every row has its five cells, a pipe in a name stays inside its cell', () => {
    const md = formatImpact(result(HOSTILE), 'markdown')
    const table = marked.lexer(md).find((t) => t.type === 'table') as Tokens.Table | undefined
    expect(table, md).not.to.equal(undefined)
    expect(table!.header.map((h) => h.text)).to.deep.equal(['change', 'level', 'target', 'source', 'file'])
    expect(table!.rows).to.have.length(HOSTILE.length + 1)
    for (const row of table!.rows) expect(row, JSON.stringify(row)).to.have.length(5)
    // Removed first, then added; each source cell is one code span holding the name.
    expect(table!.rows[0]!.map((c) => c.text)).to.deep.equal(['removed', 'column', '`t.z`', '`s.x|y`', '`old.sql:3`'])
    const sources = table!.rows.slice(1).map((r) => r[3]!.tokens)
    for (const tokens of sources) expect(tokens.map((t) => t.type)).to.deep.equal(['codespan'])
    expect((sources[0]![0] as Tokens.Codespan).text).to.equal('mart.a|b')
    // Rendered, a name is never markup: no image, emphasis, link or heading comes out of one.
    const html = marked.parse(md) as string
    expect(html).to.include('&lt;img src=x')
    expect(html).not.to.match(/<img|<strong>bold|<a href|<h1/)
  })

  it('has a heading, the counts and the downstream list, one item per name', () => {
    const md = formatImpact(result(HOSTILE), 'markdown')
    expect(md.split('\n')[0]).to.equal('## Lineage impact')
    expect(md).to.include(
      `**1 edge(s) removed** (0 table, 1 column), **${HOSTILE.length} added** (${HOSTILE.length} table`,
    )
    const list = marked.lexer(md).find((t) => t.type === 'list') as Tokens.List | undefined
    expect(list?.items.map((i) => i.text)).to.have.length(HOSTILE.length)
  })

  it('fits a pull-request comment: at most MARKDOWN_ROWS edges and downstream names, and how many more', () => {
    const names = Array.from({length: 5000}, (_, i) => `warehouse.table_with_a_long_name_${i}.column_${i}`)
    const md = formatImpact(result(names), 'markdown')
    expect(md.length).to.be.below(65_536)
    const table = marked.lexer(md).find((t) => t.type === 'table') as Tokens.Table
    expect(table.rows).to.have.length(MARKDOWN_ROWS)
    expect(md).to.include(`… and ${5001 - MARKDOWN_ROWS} more edge(s)`)
    expect(md).to.include(`… and ${5000 - MARKDOWN_ROWS} more table(s) and column(s)`)
    // Text is for a terminal or a file: all of it.
    expect(formatImpact(result(names), 'text').split('\n').length).to.be.above(10_000)
  })

  it('says so when nothing changed', () => {
    const none: ImpactResult = {...result([]), changed: false, removed: [], downstream: []}
    expect(formatImpact(none, 'markdown')).to.include('**No lineage change.**')
    expect(formatImpact(none, 'text')).to.match(/^no lineage change$/m)
  })

  it('cell escapes pipes, even after backslashes, and leaves other text alone', () => {
    expect(cell('a|b')).to.equal('`a\\|b`')
    expect(cell('a\\|b')).to.equal('`a\\\\\\|b`')
    expect(cell('a\\b')).to.equal('`a\\b`')
    expect(code('x`y')).to.equal('``x`y``')
    expect(code('`y')).to.equal('`` `y ``')
  })

  it('text output shows control characters of a name as ?', () => {
    const text = formatImpact(result(['mart.\u001b[31mred']), 'text')
    expect(text).to.include('mart.?[31mred')
    expect(text).not.to.include('\u001b')
  })
})
