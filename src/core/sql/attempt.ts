/**
 * Runs a statement (or a query cut out of one) through the dialect's grammars in order, after the
 * offset-preserving rewrites, with the nesting guard; the first grammar that accepts it wins and is
 * named in the result. When all reject it, the error reported is the one that got furthest into the
 * text (the most useful position for a person), with its offset in the text given.
 */
import {applyEdits} from './edits.js'
import {fastQuery} from './fast-path.js'
import {FLATTEN_HEIGHT, flattenDeepExpressions} from './flatten.js'
import type {DialectInfo, Grammar} from './dialects.js'
import {bracketDepth, parseWith} from './grammars.js'
import {tokenize, type Token} from './lexer.js'
import {QueryAnalyzer, type QueryContext} from './query.js'
import {grammarRewrites} from './rewrite.js'
import {mainSelectItems} from './select-text.js'
import {isNode, subquery} from './ast.js'
import type {OutCol} from './scope.js'

export type Attempt =
  | {ok: true; ast: unknown; grammar: Grammar; warnings: string[]}
  | {ok: false; message: string; offset: number | null; warnings: string[]}

/** Parse `text` with each grammar of the dialect until one accepts it. */
export function tryGrammars(text: string, tokens: readonly Token[], dialect: DialectInfo): Attempt {
  // Flattening first: where a rewrite falls inside a flattened expression, the flattening wins.
  const flat = flattenDeepExpressions(text, tokens)
  const {text: sql, map} = applyEdits(text, [...flat, ...grammarRewrites(text, tokens)])
  const depth = bracketDepth(flat.length > 0 ? tokenize(sql, dialect.lex) : tokens)
  const warnings: string[] = []
  if (flat.length > 0) {
    warnings.push(
      `${flat.length} expression(s) nested deeper than ${FLATTEN_HEIGHT} levels read as their column references`,
    )
  }
  let best: {message: string; offset: number | null} | null = null
  for (const grammar of dialect.grammars) {
    const r = parseWith(grammar, sql, depth)
    if (r.ok) return {ok: true, ast: r.ast, grammar, warnings}
    if (r.skipped) {
      warnings.push(`${grammar} grammar skipped: ${r.message}`)
      continue
    }
    const offset = r.offset === null ? null : map.toOriginal(r.offset)
    if (best === null || (offset ?? -1) > (best.offset ?? -1)) best = {message: `${r.message} (${grammar})`, offset}
  }
  best ??= {message: 'statement too deeply nested for every grammar', offset: null}
  return {ok: false, message: nearToken(text, tokens, best), offset: best.offset, warnings}
}

/** Name the token where the grammar stopped (pegjs reports only its first character). */
function nearToken(text: string, tokens: readonly Token[], best: {message: string; offset: number | null}): string {
  const at = best.offset
  if (at === null) return best.message
  const tok = tokens.find((t) => t.end > at)
  if (!tok) return best.message.replace(/unexpected "[^"]*"/, 'unexpected end of statement')
  const shown = text.slice(tok.start, Math.min(tok.end, tok.start + 40))
  return best.message.replace(/unexpected ("[^"]*"|end of input)/, `unexpected "${shown}"`)
}

export interface QueryResult {
  ok: true
  grammar: Grammar
  tables: Set<string>
  paths: Set<string>
  columns: OutCol[]
  /** SELECT ... INTO targets. */
  into: string[]
  warnings: string[]
}

export type QueryOutcome = QueryResult | Extract<Attempt, {ok: false}>

/** Parse and analyse a standalone query (SELECT, WITH ... SELECT, VALUES, set operations). */
export function analyzeQuery(text: string, dialect: DialectInfo, ctx: QueryContext): QueryOutcome {
  const tokens = tokenize(text, dialect.lex)
  // The fast path gives the mysql grammar's reading, so it goes first only where that grammar does.
  if (ctx.fastPath !== false && !ctx.tsqlAssign && dialect.grammars[0] === 'mysql') {
    const fast = fastQuery(text, tokens, ctx.schema)
    if (fast) {
      return {
        ok: true,
        grammar: 'mysql',
        tables: fast.tables,
        paths: new Set(),
        columns: fast.columns,
        into: [],
        warnings: [],
      }
    }
  }
  const attempt = tryGrammars(text, tokens, dialect)
  if (!attempt.ok) return attempt
  const stmt = Array.isArray(attempt.ast) ? (attempt.ast as unknown[])[0] : attempt.ast
  const select = subquery(stmt)
  if (!select) {
    const type = isNode(stmt) ? String(stmt.type) : 'nothing'
    return {
      ok: false,
      message: `expected a query, the ${attempt.grammar} grammar read ${type}`,
      offset: 0,
      warnings: attempt.warnings,
    }
  }
  const analyzer = new QueryAnalyzer(ctx)
  const columns = analyzer.query(select, null, mainSelectItems(text, tokens))
  return {
    ok: true,
    grammar: attempt.grammar,
    tables: analyzer.tables,
    paths: analyzer.paths,
    columns,
    into: intoTargets(select),
    warnings: attempt.warnings,
  }
}

/** `SELECT ... INTO t` (T-SQL, Postgres): the table written. */
function intoTargets(select: unknown): string[] {
  if (!isNode(select) || !isNode(select.into)) return []
  const expr = select.into.expr
  if (typeof expr === 'string' && expr) return [expr.toLowerCase()]
  if (isNode(expr) && typeof expr.table === 'string') return [expr.table.toLowerCase()]
  return []
}
