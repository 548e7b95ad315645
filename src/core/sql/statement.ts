/**
 * One statement in, its lineage out: classify it, hand it to its extractor (grammar-parsed query,
 * INSERT/CTAS/VIEW header + query, MERGE, procedure body, keyword forms, or the whole-statement AST),
 * and when no grammar accepts it, fall back to the token scan (status `fallback`, with the grammar's
 * complaint kept). `extractPieces` also repairs missing separators: when a grammar stops at a statement
 * keyword that starts a line (T-SQL scripts often omit `;`), the text is cut there and both parts are
 * extracted as statements of their own. Never throws for bad SQL.
 */
import {analyzeQuery, tryGrammars} from './attempt.js'
import {classify, type Classified} from './classify.js'
import type {StatementContext} from './context.js'
import {scanTables} from './fallback.js'
import {fromAst} from './generic.js'
import {tokenize, type Token} from './lexer.js'
import {extractMerge} from './merge.js'
import {blockPieces, extractRoutine} from './procedure.js'
import {definedColumns, failed, mapColumns, newResult, type StmtResult} from './result.js'
import {
  extractAlterTable,
  extractCopy,
  extractCreateTable,
  extractDrop,
  extractLoad,
  extractRename,
  extractUnload,
  swapPartitionFunctions,
} from './special.js'
import {extractCreateAs, extractInsert, extractInsertDirectory} from './writes.js'

/** Extract one statement (text without its separator). */
export function extractStatement(text: string, ctx: StatementContext): StmtResult {
  const tokens = tokenize(text, ctx.dialect.lex)
  if (tokens.length === 0) return newResult('EMPTY', 'keywords')
  const c = classify(tokens)
  let r: StmtResult
  try {
    r = route(text, tokens, c, ctx)
  } catch (error) {
    // A statement nested beyond the call stack is handed to the token scan like any parse failure; any
    // other error is a bug in an extractor, reported on this statement without taking the file down.
    const deep = error instanceof RangeError
    const message = deep ? 'statement too deeply nested to analyse' : `extractor error: ${String(error)}`
    r = failed(c.kind, deep ? 'E_PARSE' : 'E_INTERNAL', message, null)
  }
  if (r.status === 'failed' && r.error?.code === 'E_PARSE' && c.route !== 'routine' && c.route !== 'block') {
    r = withFallback(text, tokens, r)
  }
  return r
}

function route(text: string, tokens: readonly Token[], c: Classified, ctx: StatementContext): StmtResult {
  switch (c.route) {
    case 'none':
      return newResult(c.kind, 'keywords')
    case 'query': {
      const r = query(text, ctx)
      if (text.toUpperCase().includes('SWAP_PARTITIONS_BETWEEN_TABLES')) swapPartitionFunctions(text, tokens, r)
      return r
    }
    case 'insert':
      return extractInsert(text, tokens, c.at, ctx) ?? generic(text, tokens, c.kind, ctx)
    case 'insert-dir':
      return extractInsertDirectory(text, tokens, c.at, ctx)
    case 'ctas':
    case 'view':
      return extractCreateAs(text, tokens, c.at, c.kind, ctx) ?? generic(text, tokens, c.kind, ctx)
    case 'ddl':
      return extractCreateTable(text, tokens, c.at)
    case 'drop':
      return extractDrop(text, tokens, c.at)
    case 'rename':
      return extractRename(text, tokens, c.at)
    case 'alter':
      return extractAlterTable(text, tokens, c.at)
    case 'copy':
      return extractCopy(text, tokens, c.at, ctx)
    case 'unload':
      return extractUnload(text, tokens, c.at, ctx)
    case 'load':
      return extractLoad(text, tokens, c.at)
    case 'merge':
      return extractMerge(text, tokens, c.at, ctx)
    case 'routine':
    case 'block':
      return extractRoutine(text, tokens, c.kind, ctx, {extract: extractStatement, resplit: resplitOffset})
    case 'generic':
      return generic(text, tokens, c.kind, ctx)
  }
}

function query(text: string, ctx: StatementContext): StmtResult {
  const q = analyzeQuery(text, ctx.dialect, ctx.query)
  if (!q.ok) {
    const r = failed('SELECT', 'E_PARSE', q.message, q.offset)
    r.warnings.push(...q.warnings)
    return r
  }
  const r = newResult('SELECT', q.grammar)
  for (const t of q.tables) r.sources.add(t)
  for (const p of q.paths) r.sourcePaths.add(p)
  r.warnings.push(...q.warnings)
  r.output = q.columns
  // In a procedure body, `SELECT ... INTO v` assigns variables, except in T-SQL where it creates a table.
  const into = ctx.inBody && ctx.dialect.family !== 'tsql' ? [] : q.into
  for (const target of into.filter((t) => !/^[@:]/.test(t))) {
    r.kind = 'SELECT INTO'
    r.targets.add(target)
    r.columns.push(...mapColumns(target, q.columns, null, ctx.schema))
    const defined = definedColumns(q.columns)
    if (defined) r.defines.push({table: target, columns: defined})
  }
  return r
}

function generic(text: string, tokens: readonly Token[], kind: string, ctx: StatementContext): StmtResult {
  const attempt = tryGrammars(text, tokens, ctx.dialect)
  if (!attempt.ok) {
    const r = failed(kind, 'E_PARSE', attempt.message, attempt.offset)
    r.warnings.push(...attempt.warnings)
    return r
  }
  const r = fromAst(attempt.ast, kind, attempt.grammar, ctx)
  r.warnings.push(...attempt.warnings)
  return r
}

/** Statement kinds whose form the token scan knows, so that finding no table means there is none. */
const SCANNABLE = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'CREATE TABLE',
  'CREATE TABLE AS',
  'CREATE VIEW',
])

/**
 * Replace a parse failure by the token scan's tables when it finds some, or when the statement is of a
 * known kind and has no table-introducing keyword at all (`SELECT SQL%ROWCOUNT`); anything else stays a
 * failure, so unreadable text is never passed off as a statement without lineage.
 */
function withFallback(text: string, tokens: readonly Token[], r: StmtResult): StmtResult {
  const scan = scanTables(text, tokens)
  const found = scan.sources.size + scan.targets.size + scan.paths.size + r.targets.size > 0
  if (!found && (scan.expectedTables || !SCANNABLE.has(r.kind))) return r
  const fb = newResult(r.kind, 'fallback')
  fb.status = 'fallback'
  fb.fallbackReason = r.error
  for (const s of scan.sources) fb.sources.add(s)
  for (const t of [...r.targets, ...scan.targets]) fb.targets.add(t)
  for (const p of scan.paths) fb.sourcePaths.add(p)
  fb.warnings.push(...r.warnings)
  return fb
}

/**
 * A statement a supervisor stopped at its time budget (util/statement-watch.ts), met again: no grammar this
 * time. The token scan gives its tables (status `fallback`, whatever it finds), and the error E_PARSE_BUDGET
 * names the statement and the budget, so the file is `degraded` rather than silently short of columns.
 */
export function overBudgetStatement(text: string, ctx: StatementContext, line: number, budgetMs: number): StmtResult {
  const tokens = tokenize(text, ctx.dialect.lex)
  const kind = tokens.length === 0 ? 'EMPTY' : classify(tokens).kind
  const message =
    `the statement at line ${line} ran over its parse budget of ${budgetMs / 1000} s ` +
    '(LINEAGE_STATEMENT_BUDGET_SECONDS) and was stopped: its tables are from the token scan, its columns are lost'
  const scanned = withFallback(text, tokens, failed(kind, 'E_PARSE', message, null))
  const r = scanned.status === 'fallback' ? scanned : newResult(kind, 'fallback')
  r.status = 'fallback'
  r.grammar = 'fallback'
  r.fallbackReason = null
  r.error = {code: 'E_PARSE_BUDGET', message, offset: null}
  return r
}

const STATEMENT_START = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'CREATE',
  'DROP',
  'ALTER',
  'TRUNCATE',
])
/** T-SQL scripts run statements back to back without separators, procedural ones included. */
const TSQL_START = new Set([
  ...STATEMENT_START,
  'WITH',
  'DECLARE',
  'SET',
  'EXEC',
  'EXECUTE',
  'PRINT',
  'IF',
  'BEGIN',
  'RETURN',
  'USE',
])

/** The statements a top-level control-flow block wraps (see procedure.ts), or null. */
export function controlPieces(text: string, ctx: StatementContext): {start: number; end: number}[] | null {
  const tokens = tokenize(text, ctx.dialect.lex)
  const c = classify(tokens)
  return c.route === 'block' ? blockPieces(text, tokens, c.kind, ctx) : null
}

/** Where a statement should be cut because a grammar stopped at a new statement's first keyword. */
export function resplitOffset(text: string, r: StmtResult, ctx: StatementContext): number | null {
  const reason = r.status === 'failed' ? r.error : r.status === 'fallback' ? r.fallbackReason : null
  const offset = reason?.offset
  if (offset === null || offset === undefined || offset <= 0) return null
  const tokens = tokenize(text, ctx.dialect.lex)
  let k = tokens.findIndex((t) => t.end > offset)
  if (k < 0) k = tokens.length - 1
  // The grammar stops at the keyword, or just after it when it took the keyword for an alias.
  const candidates = [k, k - 1].filter((j) => {
    const t = tokens[j]
    return t !== undefined && (j === k ? t.start <= offset : offset <= t.end + 1)
  })
  for (const j of candidates) {
    const t = tokens[j]
    if (!t || j === 0 || t.kind !== 'word') continue
    if (ctx.dialect.family === 'tsql' ? TSQL_START.has(t.up) : t.nl && STATEMENT_START.has(t.up)) return t.start
  }
  return null
}
