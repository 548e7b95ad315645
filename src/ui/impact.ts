/**
 * How `lineage impact` prints an ImpactResult: text for a terminal, or Markdown for a pull-request comment
 * (a heading, the counts, a table of the removed and added edges, the downstream list; at most MARKDOWN_ROWS
 * of each). Table, column and file names come from SQL files, so they are untrusted: in Markdown each is a
 * code span (no emphasis, link, HTML or @mention inside one) whose fence is longer than any run of backticks
 * in the name, with `|` escaped in table cells and line breaks flattened; in text, control characters are
 * shown as `?`.
 */
import type {DownstreamNode, ImpactEdge, ImpactResult} from '../core/index.js'

export type ImpactFormat = 'text' | 'json' | 'markdown'

export function formatImpact(result: ImpactResult, format: ImpactFormat): string {
  if (format === 'json') return JSON.stringify(result, null, 2)
  if (format === 'markdown') return toMarkdown(result)
  return toText(result)
}

function where(result: ImpactResult): string {
  const from = result.backend === 'neo4j' ? 'Neo4j' : 'the output folder'
  return `${result.files.length} file(s)${result.range === null ? '' : ` changed in ${result.range}`}, against ${from}`
}

function toText(result: ImpactResult): string {
  const out = [`lineage impact: ${safe(where(result))}`]
  if (!result.changed) {
    out.push('no lineage change')
    return out.join('\n')
  }
  out.push(`${result.removed.length} edge(s) removed, ${result.added.length} added`)
  for (const [heading, edges] of [
    ['removed', result.removed],
    ['added', result.added],
  ] as const) {
    if (edges.length === 0) continue
    out.push('', `${heading}:`)
    for (const e of edges) out.push(`  ${e.level.padEnd(6)}  ${safe(e.target)} <- ${safe(e.source)}  ${safe(place(e))}`)
  }
  out.push('', `downstream (${result.downstream.length}):`)
  for (const n of result.downstream) out.push(`  ${n.level.padEnd(6)}  ${safe(n.name)}  (${hops(n)})`)
  return out.join('\n')
}

function toMarkdown(result: ImpactResult): string {
  const out = ['## Lineage impact', '']
  const files = result.files.map((f) => code(f.path)).join(', ')
  out.push(`${where(result).replace(/ file\(s\)/, ' SQL file(s)')}${files === '' ? '' : `: ${files}`}`, '')
  if (!result.changed) {
    out.push('**No lineage change.**')
    return out.join('\n')
  }
  const count = (edges: ImpactEdge[], level: string): number => edges.filter((e) => e.level === level).length
  out.push(
    `**${result.removed.length} edge(s) removed** (${count(result.removed, 'table')} table, ${count(result.removed, 'column')} column), ` +
      `**${result.added.length} added** (${count(result.added, 'table')} table, ${count(result.added, 'column')} column), ` +
      `**${result.downstream.length} downstream** table(s) and column(s).`,
    '',
    '| change | level | target | source | file |',
    '|---|---|---|---|---|',
  )
  const rows = [
    ...result.removed.map((e) => ({change: 'removed', e})),
    ...result.added.map((e) => ({change: 'added', e})),
  ]
  for (const {change, e} of rows.slice(0, MARKDOWN_ROWS)) {
    out.push(`| ${[change, e.level, cell(e.target), cell(e.source), cell(place(e))].join(' | ')} |`)
  }
  if (rows.length > MARKDOWN_ROWS) out.push('', more(rows.length - MARKDOWN_ROWS, 'edge(s)'))
  out.push('', '### Downstream', '')
  if (result.downstream.length === 0) out.push('Nothing reads the changed tables and columns.')
  for (const n of result.downstream.slice(0, MARKDOWN_ROWS)) out.push(`- ${n.level} ${code(n.name)} (${hops(n)})`)
  if (result.downstream.length > MARKDOWN_ROWS) {
    out.push('', more(result.downstream.length - MARKDOWN_ROWS, 'table(s) and column(s)'))
  }
  return out.join('\n')
}

/**
 * Rows of the edge table, and items of the downstream list, a comment shows: a pull-request comment holds at
 * most 65,536 characters, and a change feeding half the warehouse would not fit.
 */
export const MARKDOWN_ROWS = 100

function more(count: number, what: string): string {
  return `… and ${count} more ${what}: \`lineage impact --json\` lists them all.`
}

function place(e: ImpactEdge): string {
  return `${e.file}:${e.line}`
}

function hops(n: DownstreamNode): string {
  return n.depth === 1 ? 'written by the changed edge' : `${n.depth - 1} hop(s) further`
}

/** Control characters (escape sequences, line breaks) of an untrusted name, shown as `?` on a terminal. */
function safe(text: string): string {
  // eslint-disable-next-line no-control-regex -- exactly what is being removed
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

/**
 * A Markdown code span holding `text` literally: a fence one backtick longer than the longest run in it,
 * padded with a space when the text starts or ends with a backtick (CommonMark strips one from each side).
 * Line breaks become spaces, since one would end a table row or a list item.
 */
export function code(text: string): string {
  const flat = safe(text.replace(/\r\n|\r|\n/g, ' '))
  let longest = 0
  for (const run of flat.match(/`+/g) ?? []) longest = Math.max(longest, run.length)
  const fence = '`'.repeat(longest + 1)
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat.trim() === '' ? ' ' : ''
  return `${fence}${pad}${flat}${pad}${fence}`
}

/**
 * A code span inside a table cell: GFM splits cells at `|` even inside code, unless escaped as `\|`; the
 * backslashes just before a pipe are doubled, or `\\` would pair up and leave the pipe a cell border.
 */
export function cell(text: string): string {
  return code(text).replace(/(\\*)\|/g, (_, bs: string) => `${bs}${bs}\\|`)
}
