/**
 * Small helpers over a statement's tokens, shared by the classifier, the statement-specific extractors
 * (MERGE, COPY, ALTER ... SWAP, CREATE TABLE columns) and the token-scan fallback: reading a qualified
 * name, skipping a bracketed group, finding a keyword at the top bracket level.
 */
import {identText, type Token} from './lexer.js'

export interface NameAt {
  /** Lower-cased, unquoted, parts joined with dots. */
  name: string
  /** The raw text of the last part (paths keep their case). */
  raw: string
  /** Index of the first token after the name. */
  next: number
}

/** Is token t a name part (an identifier or quoted identifier, not punctuation)? */
export function isNamePart(t: Token | undefined): t is Token {
  return t !== undefined && (t.kind === 'word' || t.kind === 'qident')
}

/** Read `a.b.c` (quoted parts allowed) starting at token i; null when no name starts there. */
export function readName(text: string, tokens: readonly Token[], i: number): NameAt | null {
  const parts: string[] = []
  let raw = ''
  let j = i
  while (isNamePart(tokens[j])) {
    const t = tokens[j]
    if (!t) break
    raw = identText(text, t)
    parts.push(raw.toLowerCase())
    const dot = tokens[j + 1]
    if (dot?.up !== '.' || dot.start !== t.end) {
      j++
      break
    }
    j += 2
  }
  if (parts.length === 0) return null
  return {name: parts.join('.'), raw, next: j}
}

/** Index just past the bracket group opened at `open` (tokens[open] is `(`). */
export function skipGroup(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let j = open; j < tokens.length; j++) {
    const up = tokens[j]?.up
    if (up === '(') depth++
    else if (up === ')' && --depth === 0) return j + 1
  }
  return tokens.length
}

/** First index >= from of a word in `words` at bracket depth 0 (relative to from), or -1. */
export function findTop(
  tokens: readonly Token[],
  from: number,
  words: ReadonlySet<string>,
  to = tokens.length,
): number {
  let depth = 0
  for (let j = from; j < to; j++) {
    const t = tokens[j]
    if (!t) break
    if (t.up === '(') depth++
    else if (t.up === ')') depth--
    else if (depth === 0 && words.has(t.up) && t.kind === 'word') return j
  }
  return -1
}

/** Skip the given words (in any order, each optional) starting at i. */
export function skipWords(tokens: readonly Token[], i: number, words: ReadonlySet<string>): number {
  let j = i
  while (tokens[j]?.kind === 'word' && words.has(tokens[j]?.up ?? '')) j++
  return j
}

/** Upper-cased words of tokens[i..i+n) (non-words as their text), for pattern tests. */
export function upWords(tokens: readonly Token[], i: number, n: number): string[] {
  return tokens.slice(i, i + n).map((t) => t.up)
}

/** The top-level comma-separated items of the group opened at `open`, as token index ranges. */
export function groupItems(tokens: readonly Token[], open: number): [number, number][] {
  const end = skipGroup(tokens, open) - 1
  const items: [number, number][] = []
  let depth = 0
  let first = open + 1
  for (let j = open + 1; j < end; j++) {
    const up = tokens[j]?.up
    if (up === '(') depth++
    else if (up === ')') depth--
    else if (up === ',' && depth === 0) {
      items.push([first, j])
      first = j + 1
    }
  }
  if (end > first) items.push([first, end])
  return items
}

/** The text of a string literal token without its quotes. */
export function stringValue(text: string, t: Token): string {
  const raw = text.slice(t.start, t.end)
  const q = raw.indexOf("'")
  if (q < 0) return raw
  return raw.slice(q + 1, raw.endsWith("'") ? -1 : undefined).replaceAll("''", "'")
}

/** Keywords that can stand right before `(` without making it a function call. */
export const KEYWORDS_BEFORE_PAREN: ReadonlySet<string> = new Set([
  'AND',
  'OR',
  'NOT',
  'IN',
  'EXISTS',
  'FROM',
  'JOIN',
  'ON',
  'WHERE',
  'HAVING',
  'SELECT',
  'AS',
  'WHEN',
  'THEN',
  'ELSE',
  'CASE',
  'BY',
  'UNION',
  'ALL',
  'VALUES',
  'INTO',
  'USING',
  'LATERAL',
  'ANY',
  'SOME',
  'WITH',
  'IS',
  'TABLE',
  'OVER',
  'EXCEPT',
  'INTERSECT',
  'DISTINCT',
  'RETURN',
])
