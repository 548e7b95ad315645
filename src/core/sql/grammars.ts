/**
 * node-sql-parser, loaded lazily: importing this module loads nothing; the first statement parsed with a
 * grammar loads that grammar's build (`node-sql-parser/build/<grammar>.js`, a fraction of the full
 * package) and keeps it for the life of the thread. One `parse()` call per attempt returns the AST
 * (the separate astify/tableList/columnList calls would each parse again).
 *
 * Guard: several grammars (postgresql, redshift, snowflake, bigquery, flinksql) take time exponential in
 * the nesting of brackets (conditions, scalar subqueries: 14 levels take seconds, 18 minutes). Before
 * parsing, the nesting depth of non-call brackets is measured and a grammar is skipped beyond its limit;
 * the caller records a warning and tries the next grammar or the token-scan fallback.
 */
import {createRequire} from 'node:module'

import type {Grammar} from './dialects.js'
import type {Token} from './lexer.js'
import {KEYWORDS_BEFORE_PAREN} from './token-utils.js'

interface SqlParser {
  parse(sql: string, opt: {database: string; trimQuery: boolean}): {ast: unknown}
}

export type ParseOutcome =
  | {ok: true; ast: unknown; grammar: Grammar}
  | {ok: false; grammar: Grammar; message: string; offset: number | null; skipped: boolean}

const require = createRequire(import.meta.url)
const parsers = new Map<Grammar, SqlParser>()

/** Grammars whose parse time explodes with bracket nesting, and the depth each tolerates. */
const SENSITIVE = new Set<Grammar>(['postgresql', 'redshift', 'snowflake', 'bigquery', 'flinksql'])
export const DEPTH_LIMIT_SENSITIVE = 7
export const DEPTH_LIMIT = 14

function parserFor(grammar: Grammar): SqlParser {
  let parser = parsers.get(grammar)
  if (!parser) {
    const mod = require(`node-sql-parser/build/${grammar}.js`) as {Parser: new () => SqlParser}
    parser = new mod.Parser()
    parsers.set(grammar, parser)
  }
  return parser
}

/** The depth limit of a grammar, for the nesting guard. */
export function depthLimit(grammar: Grammar): number {
  return SENSITIVE.has(grammar) ? DEPTH_LIMIT_SENSITIVE : DEPTH_LIMIT
}

/** Parse one statement with one grammar; never throws. */
export function parseWith(grammar: Grammar, sql: string, depth: number): ParseOutcome {
  if (depth > depthLimit(grammar)) {
    const message = `bracket nesting depth ${depth} exceeds ${depthLimit(grammar)}, too slow for the ${grammar} grammar`
    return {ok: false, grammar, message, offset: null, skipped: true}
  }
  try {
    const {ast} = parserFor(grammar).parse(sql, {database: grammar, trimQuery: false})
    const bogus = bogusParse(ast)
    if (bogus) return {ok: false, grammar, message: bogus, offset: null, skipped: false}
    return {ok: true, ast, grammar}
  } catch (error) {
    return {ok: false, grammar, ...describeError(error), skipped: false}
  }
}

function describeError(error: unknown): {message: string; offset: number | null} {
  if (typeof error !== 'object' || error === null) return {message: String(error), offset: null}
  const e = error as {message?: unknown; found?: unknown; location?: {start?: {offset?: unknown}}}
  const offset = typeof e.location?.start?.offset === 'number' ? e.location.start.offset : null
  if (typeof e.found === 'string' || e.found === null) {
    const found = e.found === null ? 'end of input' : `"${e.found}"`
    return {message: `syntax error: unexpected ${found}`, offset}
  }
  return {
    message: typeof e.message === 'string' ? (e.message.split('\n')[0] ?? '') : 'the grammar rejected the statement',
    offset,
  }
}

/**
 * The transactsql grammar accepts almost any word sequence as procedure-call or assignment statements
 * (`WITH a AS (...) INSERT INTO t` becomes four "assign" statements); such a parse is a failure.
 */
function bogusParse(ast: unknown): string | null {
  const list = Array.isArray(ast) ? (ast as unknown[]) : [ast]
  for (const stmt of list) {
    if (typeof stmt !== 'object' || stmt === null) continue
    const inner = (stmt as {stmt?: {type?: unknown}}).stmt
    if (inner && (inner.type === 'assign' || inner.type === 'function'))
      return 'not a statement the grammar understands'
  }
  return null
}

const NOT_CALL = new Set([...KEYWORDS_BEFORE_PAREN, 'LIKE', 'BETWEEN', 'SET', 'FILTER'])

/** Maximum nesting of brackets that are not function-call argument lists. */
export function bracketDepth(tokens: readonly Token[]): number {
  const stack: boolean[] = []
  let depth = 0
  let max = 0
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (!t) break
    if (t.up === '(') {
      const prev = tokens[i - 1]
      const call = prev !== undefined && (prev.kind === 'word' || prev.kind === 'qident') && !NOT_CALL.has(prev.up)
      stack.push(!call)
      if (!call) max = Math.max(max, ++depth)
    } else if (t.up === ')') {
      if (stack.pop() === true) depth--
    }
  }
  return max
}
