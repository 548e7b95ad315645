/**
 * A small, fast SQL tokenizer: it knows enough of every dialect's quoting and comment rules that the
 * splitter, the template renderer, the statement classifier and the token-scan fallback never mistake a
 * `;`, a keyword or a placeholder inside a string, a quoted identifier or a comment for code. It never
 * throws: an unterminated string or comment simply runs to the end of the input.
 *
 * Whitespace and comments are not returned as tokens; `nl` on a token says whether a line break separates
 * it from the previous one (T-SQL `GO` and Oracle `/` must stand on their own line).
 */

export type TokenKind = 'word' | 'qident' | 'string' | 'number' | 'punct' | 'param'

export interface Token {
  kind: TokenKind
  /** Offsets into the text, end exclusive. */
  start: number
  end: number
  /** Upper-cased text for words (keyword tests), the raw text otherwise. */
  up: string
  /** A line break (or the start of the input) comes before this token. */
  nl: boolean
}

export interface LexOptions {
  /** `\'` escapes a quote inside strings (MySQL, Hive, Spark, BigQuery). */
  backslashEscapes: boolean
  /** `#` starts a line comment (MySQL, MariaDB, BigQuery); elsewhere it may start a T-SQL temp table name. */
  hashComments: boolean
  /** `[name]` is a quoted identifier (T-SQL); elsewhere `[` is an array subscript. */
  bracketIdentifiers: boolean
  /** `$tag$ ... $tag$` strings (Postgres family, Snowflake, DuckDB). */
  dollarQuotes: boolean
  /** Block comments nest (Postgres). */
  nestedComments: boolean
}

export const DEFAULT_LEX: LexOptions = {
  backslashEscapes: false,
  hashComments: false,
  bracketIdentifiers: false,
  dollarQuotes: true,
  nestedComments: false,
}

const TWO_CHAR_OPS = new Set(['::', ':=', '<=', '>=', '<>', '!=', '||', '->', '=>', '**', '..'])

const C_NL = 10
const C_SPACE = 32
const C_DASH = 45
const C_SLASH = 47
const C_STAR = 42
const C_HASH = 35
const C_QUOTE = 39
const C_DQUOTE = 34
const C_BACKTICK = 96
const C_LBRACKET = 91
const C_DOLLAR = 36
const C_BACKSLASH = 92

function isWordStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128
}

function isWordPart(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57) || c === C_DOLLAR || c === C_HASH || c === 64
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * The last few texts tokenized, newest first. A statement's text is read by several steps (control-flow
 * check, classification, the query's analysis), each of which asks for its tokens: the first lexes it,
 * the others get the same array. Token arrays are never modified after they are made.
 */
const recent: {text: string; opts: LexOptions; tokens: readonly Token[]}[] = []
const RECENT = 4

function remember(text: string, opts: LexOptions, tokens: readonly Token[]): void {
  recent.unshift({text, opts, tokens})
  if (recent.length > RECENT) recent.pop()
}

/** Tokenize `text` (or return the tokens of the same text read with the same options just before). */
export function tokenize(text: string, opts: LexOptions = DEFAULT_LEX): readonly Token[] {
  for (const r of recent) if (r.opts === opts && r.text === text) return r.tokens
  const tokens = lex(text, opts)
  remember(text, opts, tokens)
  return tokens
}

/**
 * For text made from tokenized text by blanking whole tokens with spaces, keeping line breaks (edits.ts
 * `blank`), so that every offset stays: its tokens are the ranges [from, to) of the original tokens that
 * were kept, and tokenize(blanked) will return them without lexing again. Only the line-break flag of the
 * first token of a range can differ, and it is recomputed.
 */
export function rememberBlanked(
  blanked: string,
  opts: LexOptions,
  original: readonly Token[],
  ranges: readonly (readonly [number, number])[],
): void {
  const tokens: Token[] = []
  for (const [from, to] of ranges) {
    for (let i = from; i < to; i++) {
      const t = original[i]
      if (!t) break
      const prev = tokens[tokens.length - 1]
      if (i > from || (prev === undefined ? t.nl : prev === original[i - 1])) tokens.push(t)
      else {
        const nl = prev === undefined || lineBreakBetween(blanked, prev.end, t.start)
        tokens.push(nl === t.nl ? t : {...t, nl})
      }
    }
  }
  remember(blanked, opts, tokens)
}

function lineBreakBetween(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === C_NL) return true
  return false
}

function lex(text: string, opts: LexOptions): Token[] {
  const tokens: Token[] = []
  const n = text.length
  let i = 0
  let nl = true
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c <= C_SPACE) {
      if (c === C_NL) nl = true
      i++
      continue
    }
    const next = i + 1 < n ? text.charCodeAt(i + 1) : 0
    if ((c === C_DASH && next === C_DASH) || (c === C_HASH && opts.hashComments)) {
      i = lineEnd(text, i)
      continue
    }
    if (c === C_SLASH && next === C_STAR) {
      const end = blockCommentEnd(text, i, opts.nestedComments)
      if (text.slice(i, end).includes('\n')) nl = true
      i = end
      continue
    }
    const end = tokenEnd(text, i, c, next, opts)
    tokens.push(makeToken(text, i, end.end, end.kind, nl))
    nl = false
    i = end.end
  }
  return tokens
}

function makeToken(text: string, start: number, end: number, kind: TokenKind, nl: boolean): Token {
  const raw = text.slice(start, end)
  return {kind, start, end, up: kind === 'word' ? raw.toUpperCase() : raw, nl}
}

function tokenEnd(text: string, i: number, c: number, next: number, opts: LexOptions): {end: number; kind: TokenKind} {
  if (c === C_QUOTE) return {end: quotedEnd(text, i, C_QUOTE, opts.backslashEscapes), kind: 'string'}
  if (c === C_DQUOTE) return {end: quotedEnd(text, i, C_DQUOTE, opts.backslashEscapes), kind: 'qident'}
  if (c === C_BACKTICK) return {end: quotedEnd(text, i, C_BACKTICK, false), kind: 'qident'}
  if (c === C_LBRACKET && opts.bracketIdentifiers) return {end: bracketEnd(text, i), kind: 'qident'}
  if (c === C_DOLLAR && opts.dollarQuotes) {
    const end = dollarQuoteEnd(text, i)
    if (end > 0) return {end, kind: 'string'}
  }
  if (isStringPrefix(c) && next === C_QUOTE) {
    return {end: quotedEnd(text, i + 1, C_QUOTE, opts.backslashEscapes || c === 69 || c === 101), kind: 'string'}
  }
  if (isWordStart(c) || ((c === 64 || c === C_HASH) && isWordPart(next)))
    return {end: wordEnd(text, i + 1), kind: 'word'}
  if (isDigit(c) || (c === 46 && isDigit(next))) return {end: numberEnd(text, i), kind: 'number'}
  if (c === C_DOLLAR && isDigit(next)) return {end: wordEnd(text, i + 1), kind: 'param'}
  const two = text.slice(i, i + 2)
  return {end: TWO_CHAR_OPS.has(two) ? i + 2 : i + 1, kind: 'punct'}
}

/** N'..', E'..', X'..', B'..', R'..' (and lower case) string prefixes. */
function isStringPrefix(c: number): boolean {
  return c === 78 || c === 110 || c === 69 || c === 101 || c === 88 || c === 120 || c === 66 || c === 98 || c === 82
}

function lineEnd(text: string, i: number): number {
  const end = text.indexOf('\n', i)
  return end < 0 ? text.length : end
}

function blockCommentEnd(text: string, i: number, nested: boolean): number {
  if (!nested) {
    const end = text.indexOf('*/', i + 2)
    return end < 0 ? text.length : end + 2
  }
  let depth = 0
  let j = i
  while (j < text.length) {
    if (text.startsWith('/*', j)) {
      depth++
      j += 2
    } else if (text.startsWith('*/', j)) {
      depth--
      j += 2
      if (depth === 0) return j
    } else j++
  }
  return text.length
}

/** End of a quoted token starting at i; a doubled quote is an escaped quote. */
function quotedEnd(text: string, i: number, quote: number, backslash: boolean): number {
  let j = i + 1
  const n = text.length
  while (j < n) {
    const c = text.charCodeAt(j)
    if (backslash && c === C_BACKSLASH) {
      j += 2
      continue
    }
    if (c === quote) {
      if (j + 1 < n && text.charCodeAt(j + 1) === quote) {
        j += 2
        continue
      }
      return j + 1
    }
    j++
  }
  return n
}

function bracketEnd(text: string, i: number): number {
  const end = text.indexOf(']', i + 1)
  return end < 0 ? text.length : end + 1
}

/** `$tag$...$tag$` with an empty or identifier tag; 0 when `$` does not open one (e.g. `${var}`, `$1`). */
function dollarQuoteEnd(text: string, i: number): number {
  let j = i + 1
  while (j < text.length && isWordPart(text.charCodeAt(j)) && text.charCodeAt(j) !== C_DOLLAR) j++
  if (text.charCodeAt(j) !== C_DOLLAR) return 0
  if (j > i + 1 && !isWordStart(text.charCodeAt(i + 1))) return 0
  const tag = text.slice(i, j + 1)
  const close = text.indexOf(tag, j + 1)
  return close < 0 ? text.length : close + tag.length
}

function wordEnd(text: string, i: number): number {
  let j = i
  while (j < text.length && isWordPart(text.charCodeAt(j))) j++
  return j
}

function numberEnd(text: string, i: number): number {
  let j = i
  const n = text.length
  while (j < n) {
    const c = text.charCodeAt(j)
    if (isDigit(c) || c === 46 || isWordStart(c)) {
      j++
    } else if ((c === 43 || c === C_DASH) && (text.charCodeAt(j - 1) | 32) === 101) {
      j++
    } else break
  }
  return j
}

/** The text of an identifier token without its quotes (`"a""b"` -> `a"b`). */
export function identText(text: string, tok: Token): string {
  const raw = text.slice(tok.start, tok.end)
  if (tok.kind !== 'qident') return raw
  const q = raw[0]
  const inner = raw.slice(1, raw.endsWith(q === '[' ? ']' : (q ?? '')) ? -1 : undefined)
  if (q === '"') return inner.replaceAll('""', '"')
  if (q === '`') return inner.replaceAll('``', '`')
  return inner
}
