/**
 * The source text of each item in a query's main select list, from tokens. sqllineage (and people) name
 * an un-aliased expression column by its text (`max(col1)`, `col1 + col2`); node-sql-parser's locations
 * are missing or wrong for many expressions, so the names come from here instead. The main select is the
 * first SELECT at the shallowest bracket depth outside CTE bodies; items are split at commas at its
 * depth. Text is lower-cased with whitespace and comments collapsed to single spaces.
 */
import type {Token} from './lexer.js'
import {skipGroup} from './token-utils.js'

const SKIP_AFTER_SELECT = new Set(['DISTINCT', 'ALL', 'DISTINCTROW', 'STRAIGHT_JOIN', 'SQL_CALC_FOUND_ROWS'])
const LIST_END = new Set([
  'FROM',
  'INTO',
  'WHERE',
  'GROUP',
  'HAVING',
  'ORDER',
  'LIMIT',
  'UNION',
  'EXCEPT',
  'INTERSECT',
  'MINUS',
  'WINDOW',
  'QUALIFY',
  'FETCH',
  'OFFSET',
  ';',
])

/** Index of the main SELECT token, or -1. */
export function mainSelectIndex(tokens: readonly Token[]): number {
  const stack: boolean[] = [] // true for a CTE body
  const withAt = new Set<number>()
  let best = -1
  let bestDepth = Infinity
  let cteDepth = 0
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (!t) break
    const depth = stack.length
    if (t.up === 'WITH' && tokens[i + 1]?.up !== '(') withAt.add(depth)
    else if (t.up === '(') {
      const prev = tokens[i - 1]?.up
      const body = withAt.has(depth) && (prev === 'AS' || prev === 'MATERIALIZED')
      stack.push(body)
      if (body) cteDepth++
    } else if (t.up === ')') {
      if (stack.pop() === true) cteDepth--
    } else if (t.up === 'SELECT' && cteDepth === 0) {
      withAt.delete(depth)
      if (depth < bestDepth) {
        best = i
        bestDepth = depth
      }
    }
  }
  return best
}

/** The lower-cased text of each select-list item of the main select; empty when there is none. */
export function mainSelectItems(text: string, tokens: readonly Token[]): string[] {
  const at = mainSelectIndex(tokens)
  if (at < 0) return []
  let i = skipModifiers(tokens, at + 1)
  const items: string[] = []
  let depth = 0
  let first = i
  for (; i < tokens.length; i++) {
    const t = tokens[i]
    if (!t) break
    if (t.up === '(') depth++
    else if (t.up === ')') {
      if (depth === 0) break
      depth--
    } else if (depth === 0 && t.kind === 'word' && LIST_END.has(t.up)) break
    else if (depth === 0 && t.up === ',') {
      items.push(joinTokens(text, tokens, first, i))
      first = i + 1
    }
  }
  if (i > first) items.push(joinTokens(text, tokens, first, i))
  return items
}

function skipModifiers(tokens: readonly Token[], i: number): number {
  let j = i
  for (;;) {
    const t = tokens[j]
    if (!t) return j
    if (SKIP_AFTER_SELECT.has(t.up)) j++
    else if (t.up === 'DISTINCT' || (t.up === 'ON' && tokens[j + 1]?.up === '(')) j = skipGroup(tokens, j + 1)
    else if (t.up === 'TOP') j = tokens[j + 1]?.up === '(' ? skipGroup(tokens, j + 1) : j + 2
    else return j
  }
}

/** Tokens [from, to) as text, one space wherever whitespace or a comment separated them. */
function joinTokens(text: string, tokens: readonly Token[], from: number, to: number): string {
  let out = ''
  for (let i = from; i < to; i++) {
    const t = tokens[i]
    const prev = tokens[i - 1]
    if (!t) break
    if (i > from && prev && prev.end < t.start) out += ' '
    out += text.slice(t.start, t.end)
  }
  return out.toLowerCase()
}
