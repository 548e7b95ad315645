/**
 * MERGE, which every node-sql-parser 5.4 grammar rejects. The statement is cut on its keywords:
 * `MERGE INTO target [AS t] USING source|(query) [AS s] ON cond WHEN ... THEN UPDATE SET c = e, ... |
 * INSERT [(cols)] VALUES (e, ...) | INSERT ROW | INSERT * | DELETE`. The assigned expressions are then
 * parsed by the grammars as one synthetic query, `SELECT e1, e2, ... FROM source s, target t`, which
 * gives the sources (USING subqueries included) and the column lineage in one parse. When the synthetic
 * query fails, the USING part alone is parsed for table lineage.
 */
import {analyzeQuery} from './attempt.js'
import type {StatementContext} from './context.js'
import type {Token} from './lexer.js'
import {columnEntry, failed, newResult, type StmtResult} from './result.js'
import {STAR} from './scope.js'
import {findTop, groupItems, isNamePart, readName, skipGroup} from './token-utils.js'
import {queryOnly} from './writes.js'

interface Assignment {
  column: string
  expr: string
}

interface Parts {
  target: string
  targetAlias: string | null
  source: {text: string; from: number; to: number; isQuery: boolean}
  sourceAlias: string | null
  assignments: Assignment[]
}

export function extractMerge(text: string, tokens: readonly Token[], at: number, ctx: StatementContext): StmtResult {
  const parts = mergeParts(text, tokens, at)
  if (!parts) return failed('MERGE', 'E_PARSE', 'expected MERGE INTO target USING source ON ...', null)
  const sAlias = parts.sourceAlias ?? (parts.source.isQuery ? 'merge_source' : null)
  const tAlias = parts.targetAlias ?? parts.target
  const exprs = parts.assignments.map((a) => (a.expr === STAR ? `${sAlias ?? parts.source.text}.*` : a.expr))
  const select = `SELECT ${exprs.length > 0 ? exprs.join(', ') : '1'} FROM ${parts.source.text} ${sAlias ?? ''}, ${parts.target} ${tAlias === parts.target ? '' : tAlias}`
  const outcome = analyzeQuery(select, ctx.dialect, ctx.query)
  const r = newResult('MERGE', outcome.ok ? outcome.grammar : null)
  r.targets.add(parts.target)
  if (outcome.ok) {
    for (const t of outcome.tables) if (t !== parts.target) r.sources.add(t)
    const byTarget = new Map<string, Set<string>>()
    parts.assignments.forEach((a, i) => {
      const sources = outcome.columns[i]?.sources ?? new Set<string>()
      const key = `${parts.target}.${a.column}`
      if (sources.size > 0) byTarget.set(key, new Set([...(byTarget.get(key) ?? []), ...sources]))
    })
    r.columns = [...byTarget].map(([t, s]) => columnEntry(t, s))
    r.warnings.push(...outcome.warnings)
    return r
  }
  return sourceOnly(text, tokens, parts, r, ctx)
}

/** Table lineage from the USING part alone, when the synthetic query did not parse. */
function sourceOnly(
  text: string,
  tokens: readonly Token[],
  parts: Parts,
  r: StmtResult,
  ctx: StatementContext,
): StmtResult {
  if (!parts.source.isQuery) {
    r.sources.add(parts.source.text.toLowerCase())
    r.grammar = 'keywords'
    r.warnings.push('column lineage of the MERGE clauses could not be parsed')
    return r
  }
  const q = queryOnly(text, tokens, parts.source.from, parts.source.to, ctx)
  if (!q.ok) return {...failed('MERGE', 'E_PARSE', q.message, q.offset), targets: r.targets}
  for (const t of q.tables) r.sources.add(t)
  r.grammar = q.grammar
  r.warnings.push('column lineage of the MERGE clauses could not be parsed')
  return r
}

function mergeParts(text: string, tokens: readonly Token[], at: number): Parts | null {
  let i = tokens[at + 1]?.up === 'INTO' ? at + 2 : at + 1
  const target = readName(text, tokens, i)
  if (!target) return null
  i = target.next
  const targetAlias = aliasAt(text, tokens, i, 'USING')
  i = findTop(tokens, i, new Set(['USING']))
  if (i < 0) return null
  const src = tokens[i + 1]
  if (!src) return null
  let source: Parts['source']
  let next: number
  if (src.up === '(') {
    next = skipGroup(tokens, i + 1)
    const close = tokens[next - 1]
    source = {text: text.slice(src.start, close?.end ?? text.length), from: i + 2, to: next - 1, isQuery: true}
  } else {
    const name = readName(text, tokens, i + 1)
    if (!name) return null
    next = name.next
    const last = tokens[next - 1]
    source = {text: text.slice(src.start, last?.end ?? text.length), from: i + 1, to: next, isQuery: false}
  }
  const sourceAlias = aliasAt(text, tokens, next, 'ON')
  return {target: target.name, targetAlias, source, sourceAlias, assignments: assignments(text, tokens, next)}
}

/** `[AS] alias` at i, unless the next word is `stop`. */
function aliasAt(text: string, tokens: readonly Token[], i: number, stop: string): string | null {
  const j = tokens[i]?.up === 'AS' ? i + 1 : i
  const t = tokens[j]
  if (!isNamePart(t) || t.up === stop) return null
  return readName(text, tokens, j)?.name ?? null
}

/** Every `target column <- expression` of the WHEN clauses. */
function assignments(text: string, tokens: readonly Token[], from: number): Assignment[] {
  const out: Assignment[] = []
  for (let i = from; i < tokens.length; i++) {
    const up = tokens[i]?.up
    if (up === 'SET' && tokens[i - 1]?.up === 'UPDATE') i = setList(text, tokens, i + 1, out)
    else if (up === 'INSERT' && tokens[i - 1]?.up === 'THEN') i = insertClause(text, tokens, i + 1, out)
  }
  return out
}

function setList(text: string, tokens: readonly Token[], i: number, out: Assignment[]): number {
  if (tokens[i]?.up === '*') {
    out.push({column: STAR, expr: STAR})
    return i
  }
  let j = i
  for (;;) {
    const col = readName(text, tokens, j)
    if (!col || tokens[col.next]?.up !== '=') return j
    const end = exprEnd(tokens, col.next + 1)
    out.push({column: col.name.split('.').pop() ?? col.name, expr: slice(text, tokens, col.next + 1, end)})
    if (tokens[end]?.up !== ',') return end - 1
    j = end + 1
  }
}

function insertClause(text: string, tokens: readonly Token[], i: number, out: Assignment[]): number {
  const up = tokens[i]?.up
  if (up === '*' || up === 'ROW') {
    out.push({column: STAR, expr: STAR})
    return i
  }
  let columns: string[] = []
  let j = i
  if (up === '(') {
    columns = groupItems(tokens, j).map(([a]) => readName(text, tokens, a)?.name.split('.').pop() ?? '')
    j = skipGroup(tokens, j)
  }
  if (tokens[j]?.up !== 'VALUES' || tokens[j + 1]?.up !== '(') return j
  groupItems(tokens, j + 1).forEach(([a, b], k) => {
    const column = columns[k]
    if (column) out.push({column, expr: slice(text, tokens, a, b)})
  })
  return skipGroup(tokens, j + 1) - 1
}

/** The end of an expression in a SET list: the next top-level comma or WHEN. */
function exprEnd(tokens: readonly Token[], from: number): number {
  let depth = 0
  for (let k = from; k < tokens.length; k++) {
    const up = tokens[k]?.up
    if (up === '(') depth++
    else if (up === ')' && --depth < 0) return k
    else if (depth === 0 && (up === ',' || up === 'WHEN' || up === ';')) return k
  }
  return tokens.length
}

function slice(text: string, tokens: readonly Token[], a: number, b: number): string {
  const first = tokens[a]
  const last = tokens[b - 1]
  return first && last ? text.slice(first.start, last.end) : 'NULL'
}
