/**
 * Bounded grammar cost for deeply nested expressions. node-sql-parser's grammars backtrack, and on nested
 * calls, CASTs, CASEs and bracketed conditions the cost grows several times per level (nine nested
 * `CAST(... AS string)` took minutes and then 2 GB before V8 gave up). Lineage needs only the column
 * references of such an expression, not its shape, so before a grammar sees the statement every outermost
 * expression nested deeper than FLATTEN_HEIGHT is replaced by `COALESCE(ref, ...)` over the column
 * references found inside it (or `NULL` when there are none). Units that contain a query (SELECT) are
 * never flattened: their tables matter, and they are descended into instead. Pure; never throws.
 */
import type {Edit} from './edits.js'
import type {Token} from './lexer.js'
import {KEYWORDS_BEFORE_PAREN} from './token-utils.js'

/** Expressions up to this many nested levels are parsed as written (real SQL rarely goes beyond 4). */
export const FLATTEN_HEIGHT = 4

interface Unit {
  /** First token of the expression (a function name, CASE, or the opening bracket). */
  first: number
  /** Last token (the closing bracket or END). */
  last: number
  height: number
  query: boolean
  flattenable: boolean
}

/** Tokens after which a plain bracket starts an expression (not a table, list of rows or window). */
const EXPR_BEFORE = new Set(['SELECT', 'WHEN', 'THEN', 'ELSE', 'AND', 'OR', 'NOT', 'WHERE', 'ON', 'HAVING', 'CASE'])
const NOT_CALL = new Set([...KEYWORDS_BEFORE_PAREN, 'LIKE', 'BETWEEN', 'SET', 'FILTER'])

/** Words inside an expression that are never column references. */
const NOT_A_COLUMN = new Set([
  ...KEYWORDS_BEFORE_PAREN,
  'END',
  'NULL',
  'TRUE',
  'FALSE',
  'LIKE',
  'ILIKE',
  'BETWEEN',
  'CAST',
  'INTERVAL',
  'FOR',
  'ASC',
  'DESC',
  'PARTITION',
  'ORDER',
  'ROWS',
  'RANGE',
  'UNBOUNDED',
  'PRECEDING',
  'FOLLOWING',
  'CURRENT',
  'ROW',
  'ESCAPE',
  'SEPARATOR',
  'LEADING',
  'TRAILING',
  'BOTH',
  'AT',
  'TIME',
  'ZONE',
  'COLLATE',
  'YEAR',
  'QUARTER',
  'MONTH',
  'WEEK',
  'DAY',
  'HOUR',
  'MINUTE',
  'SECOND',
  'DATE',
  'TIMESTAMP',
])

/** Edits replacing every outermost too-deep expression; empty when the statement is shallow enough. */
export function flattenDeepExpressions(text: string, tokens: readonly Token[], maxHeight = FLATTEN_HEIGHT): Edit[] {
  const units = nestingUnits(tokens)
  if (!units.some((u) => u.height > maxHeight)) return []
  const edits: Edit[] = []
  let covered = -1
  for (const u of units) {
    if (u.first <= covered || u.height <= maxHeight || u.query || !u.flattenable) continue
    const start = tokens[u.first]?.start ?? 0
    const end = tokens[u.last]?.end ?? start
    const refs = columnRefs(text, tokens, u.first, u.last)
    edits.push({start, end, replacement: refs.length > 0 ? `COALESCE(${refs.join(', ')})` : 'NULL'})
    covered = u.last
  }
  return edits
}

/** Every bracket group and CASE ... END, in order of their first token, with its nesting height. */
function nestingUnits(tokens: readonly Token[]): Unit[] {
  const units: Unit[] = []
  const open: {unit: Unit; isCase: boolean; child: number}[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (!t) break
    if (t.up === '(' || (t.kind === 'word' && t.up === 'CASE')) {
      const unit: Unit = {first: firstToken(tokens, i), last: i, height: 0, query: false, flattenable: false}
      unit.flattenable =
        t.up === 'CASE' || unit.first < i || EXPR_BEFORE.has(tokens[i - 1]?.up ?? '') || isOperator(tokens[i - 1])
      units.push(unit)
      open.push({unit, isCase: t.up === 'CASE', child: 0})
    } else if ((t.up === ')' || (t.kind === 'word' && t.up === 'END')) && open.length > 0) {
      const top = open[open.length - 1]
      if (top?.isCase !== (t.up === 'END')) continue
      open.pop()
      top.unit.last = i
      top.unit.height = top.child + 1
      const parent = open[open.length - 1]
      if (parent) {
        parent.child = Math.max(parent.child, top.unit.height)
        parent.unit.query ||= top.unit.query
      }
    } else if (t.kind === 'word' && (t.up === 'SELECT' || t.up === 'FROM') && open.length > 0) {
      const top = open[open.length - 1]
      // FROM inside EXTRACT(x FROM y) or SUBSTRING(x FROM 1) is no query; SELECT always is.
      if (top && (t.up === 'SELECT' || top.unit.first === top.unit.last)) top.unit.query = true
    }
  }
  return units.sort((a, b) => a.first - b.first)
}

/** For a call `schema.fn(`, the token of its name's first part; otherwise the bracket itself. */
function firstToken(tokens: readonly Token[], open: number): number {
  const prev = tokens[open - 1]
  if (tokens[open]?.up !== '(' || !prev || (prev.kind !== 'word' && prev.kind !== 'qident')) return open
  if (prev.kind === 'word' && NOT_CALL.has(prev.up)) return open
  let first = open - 1
  while (tokens[first - 1]?.up === '.' && isName(tokens[first - 2])) first -= 2
  return first
}

function isOperator(t: Token | undefined): boolean {
  return t?.kind === 'punct' && t.up !== ')' && t.up !== '.'
}

function isName(t: Token | undefined): t is Token {
  return t !== undefined && (t.kind === 'word' || t.kind === 'qident')
}

/** Column references (`c`, `t.c`, `"Q"."c"`) between two tokens, each once, as written. */
function columnRefs(text: string, tokens: readonly Token[], from: number, to: number): string[] {
  const refs = new Set<string>()
  for (let i = from; i <= to; i++) {
    const t = tokens[i]
    if (!isName(t) || tokens[i - 1]?.up === '.') continue
    let last = i
    while (tokens[last + 1]?.up === '.' && isName(tokens[last + 2])) last += 2
    const next = tokens[last + 1]?.up
    const prev = tokens[i - 1]?.up
    const keyword = t.kind === 'word' && last === i && NOT_A_COLUMN.has(t.up)
    if (!keyword && next !== '(' && prev !== 'AS' && prev !== '::') {
      refs.add(text.slice(t.start, tokens[last]?.end ?? t.end))
    }
    i = last
  }
  return [...refs]
}
