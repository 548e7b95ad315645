/**
 * A whole file: guards (size cap, soft deadline between statements), templates, splitting, statement
 * extraction with the file's growing schema catalogue, positions mapped back to the file as written,
 * unrendered placeholders kept out of table names, and the file-level combination. Synchronous and pure
 * (no I/O; it reads the clock only for the deadline). Never throws for bad SQL; an unknown dialect is a
 * usage error. A grammar cannot be interrupted from inside the thread, so the per-statement time budget is a
 * supervisor's (util/statement-watch.ts): `onStatement` tells it which statement runs, and a statement it had
 * to stop comes back in `overBudget`, to be read by the token scan instead (E_PARSE_BUDGET).
 */
import type {FileLineage, LineageIssue, StatementLineage} from '../types.js'
import {combineColumns, combineStatements} from './combine.js'
import {statementContext} from './context.js'
import {dialectInfo, type DialectInfo} from './dialects.js'
import {tokenize, type Token} from './lexer.js'
import {SourceText} from './positions.js'
import {qualifyStatement} from './names.js'
import {foldDefaults, sessionChange, type NameDefaults} from './qualify.js'
import type {StmtResult} from './result.js'
import {SchemaIndex, type SchemaCatalogue} from './schema.js'
import {splitStatements} from './splitter.js'
import {controlPieces, extractStatement, overBudgetStatement, resplitOffset} from './statement.js'
import {renderTemplate, type Rendered} from './template.js'
import {applyTemplateChecks} from './template-checks.js'
import {PARSER_VERSION} from './version.js'

export interface ExtractOptions {
  /** For messages and FileLineage.path. */
  path: string
  /** sqlfluff dialect name (ansi, mysql, postgres, tsql, ...). */
  dialect: string
  /** Template variables for `${var}`, `{{ var }}` and `:var`. */
  vars?: Record<string, string>
  /** Table -> columns, e.g. {"db.tab": ["a", "b"]}. */
  schema?: SchemaCatalogue
  /** Size cap in bytes; larger input gives a failed FileLineage with code E_FILE_TOO_LARGE. */
  maxBytes?: number
  /** Soft time budget for the file, checked between statements; the rest get E_PARSE_TIMEOUT. */
  deadlineMs?: number
  /** The session's default database and schema for unqualified names (`USE` in the file changes them). */
  defaultDatabase?: string
  defaultSchema?: string
  /** Told the span (offsets in the rendered text) of each statement before it is extracted, null after the last. */
  onStatement?: (span: StatementSpan | null) => void
  /** Statements a supervisor stopped at their time budget in an earlier attempt: not given to a grammar again. */
  overBudget?: {spans: readonly StatementSpan[]; budgetMs: number}
  /**
   * Read the common query shapes from tokens before trying the grammars (fast-path.ts); on unless false.
   * The result is the same either way; off is for checking exactly that, and for benchmarks.
   */
  fastPath?: boolean
}

/** Where a statement lies in the rendered text: what `onStatement` reports and `overBudget` names. */
export interface StatementSpan {
  start: number
  end: number
}

interface Piece {
  start: number
  end: number
}

/** The lineage of one file of SQL. */
export function extractLineage(sql: string, options: ExtractOptions): FileLineage {
  const dialect = dialectInfo(options.dialect)
  try {
    return extractFile(sql, options, dialect)
  } catch (error) {
    // Statement extractors catch their own errors; this guards the file-level steps, so a bug can never
    // take down the worker that parses the file.
    const message = error instanceof Error ? error.message : String(error)
    return fileFailure(options, 'E_INTERNAL', `extractor error: ${message}`)
  }
}

function extractFile(sql: string, options: ExtractOptions, dialect: DialectInfo): FileLineage {
  const src = new SourceText(sql)
  if (options.maxBytes !== undefined && Buffer.byteLength(sql, 'utf8') > options.maxBytes) {
    const size = Buffer.byteLength(sql, 'utf8')
    return fileFailure(
      options,
      'E_FILE_TOO_LARGE',
      `file is ${size} bytes, over the ${options.maxBytes}-byte limit`,
      src,
    )
  }
  const started = performance.now()
  const rendered = renderTemplate(sql, options.vars ?? {}, dialect.lex)
  const tokens = tokenize(rendered.text, dialect.lex)
  const pieces: Piece[] = splitStatements(rendered.text, tokens, dialect.family).map((s) => ({
    start: s.start,
    end: s.end,
  }))
  const ctx = statementContext(dialect, new SchemaIndex(options.schema))
  if (options.fastPath === false) ctx.query.fastPath = false
  const statements: StatementLineage[] = []
  let names = foldDefaults({...initialDefaults(options)}, dialect)
  for (let p = pieces.shift(); p; p = pieces.shift()) {
    if (options.deadlineMs !== undefined && performance.now() - started > options.deadlineMs) {
      statements.push(timedOut(statements.length, p, rendered, src, options.deadlineMs))
      continue
    }
    const text = rendered.text.slice(p.start, p.end)
    const over = options.overBudget
    if (over?.spans.some((s) => s.start === p.start && s.end === p.end)) {
      const line = src.position(rendered.map.toOriginal(p.start)).line
      const st = toStatement(statements.length, p, overBudgetStatement(text, ctx, line, over.budgetMs), rendered, src)
      qualifyStatement(st, names, dialect, rendered.text, tokensIn(tokens, p))
      statements.push(st)
      continue
    }
    options.onStatement?.({start: p.start, end: p.end})
    const inner = controlPieces(text, ctx)
    if (inner) {
      pieces.unshift(...inner.map((x) => ({start: p.start + x.start, end: p.start + x.end})))
      continue
    }
    const r = extractStatement(text, ctx)
    const cut = resplitOffset(text, r, ctx)
    if (cut !== null) {
      pieces.unshift(
        {start: p.start, end: p.start + text.slice(0, cut).trimEnd().length},
        {start: p.start + cut, end: p.end},
      )
      continue
    }
    for (const d of r.defines) ctx.schema.add(d.table, d.columns)
    if (/^\s*(use|set)\b/i.test(text)) names = sessionChange(text, tokenize(text, dialect.lex), dialect, names) ?? names
    const st = toStatement(statements.length, p, r, rendered, src)
    qualifyStatement(st, names, dialect, rendered.text, tokensIn(tokens, p))
    statements.push(st)
  }
  options.onStatement?.(null)
  return assemble(options, statements, rendered, src)
}

/** The file's tokens inside a piece (pieces start and end at token boundaries), found by binary search. */
function tokensIn(tokens: readonly Token[], p: Piece): Token[] {
  let lo = 0
  let hi = tokens.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((tokens[mid]?.start ?? 0) < p.start) lo = mid + 1
    else hi = mid
  }
  let end = lo
  while (end < tokens.length && (tokens[end]?.end ?? 0) <= p.end) end++
  return tokens.slice(lo, end)
}

function initialDefaults(o: ExtractOptions): NameDefaults {
  const d: NameDefaults = {}
  if (o.defaultDatabase) d.database = o.defaultDatabase
  if (o.defaultSchema) d.schema = o.defaultSchema
  return d
}

function toStatement(index: number, p: Piece, r: StmtResult, rendered: Rendered, src: SourceText): StatementLineage {
  const at = (local: number | null): number => rendered.map.toOriginal(p.start + (local ?? 0))
  const pos = src.position(at(0))
  const st: StatementLineage = {
    index,
    kind: r.kind,
    line: pos.line,
    column: pos.column,
    sources: [...r.sources].sort(),
    targets: [...r.targets].sort(),
    columns: r.columns,
    grammar: r.grammar,
    status: r.status,
    error: r.error ? src.issue(r.error.code, r.error.message, at(r.error.offset)) : null,
  }
  if (r.drops.length > 0) st.drops = r.drops
  if (r.renames.length > 0) st.renames = r.renames
  if (r.sourcePaths.size > 0) st.sourcePaths = [...r.sourcePaths].sort()
  if (r.targetPaths.size > 0) st.targetPaths = [...r.targetPaths].sort()
  const warnings = [...r.warnings]
  if (r.fallbackReason) {
    const where = src.position(at(r.fallbackReason.offset))
    warnings.unshift(
      `no grammar accepted the statement (${where.line}:${where.column}: ${r.fallbackReason.message}); tables found by the token scan`,
    )
  }
  applyTemplateChecks(st, warnings, {start: at(0), end: rendered.map.toOriginal(p.end)}, rendered, src)
  if (warnings.length > 0) st.warnings = [...new Set(warnings)]
  return st
}

function timedOut(index: number, p: Piece, rendered: Rendered, src: SourceText, deadlineMs: number): StatementLineage {
  const at = rendered.map.toOriginal(p.start)
  const pos = src.position(at)
  const message = `not parsed: the file's ${deadlineMs} ms parse budget ran out before this statement`
  return {
    index,
    kind: 'UNKNOWN',
    line: pos.line,
    column: pos.column,
    sources: [],
    targets: [],
    columns: [],
    grammar: null,
    status: 'skipped',
    error: src.issue('E_PARSE_TIMEOUT', message, at),
  }
}

function assemble(
  options: ExtractOptions,
  statements: StatementLineage[],
  rendered: Rendered,
  src: SourceText,
): FileLineage {
  const counted = statements.filter((s) => s.status !== 'skipped')
  const {sources, targets} = combineStatements(counted)
  const errors: LineageIssue[] = statements.flatMap((s) => (s.error ? [s.error] : []))
  const good = statements.filter((s) => s.status === 'ok' || s.status === 'fallback').length
  const status =
    good < statements.length ? (good > 0 ? 'partial' : 'failed') : lostColumns(statements) ? 'degraded' : 'ok'
  const file: FileLineage = {
    path: options.path,
    dialect: options.dialect,
    status,
    sources,
    targets,
    columns: combineColumns(counted),
    statements,
    errors,
    parserVersion: PARSER_VERSION,
  }
  if (statements.some((s) => s.error?.code === 'E_PARSE_TIMEOUT')) file.incomplete = true
  const warnings = rendered.notes.map((n) => `${src.position(n.start).line}: ${n.message}`)
  if (statements.length === 0) warnings.push('no SQL statements found')
  if (warnings.length > 0) file.warnings = warnings
  return file
}

/**
 * Did a statement that moves data from tables to tables come out of the token scan without its columns, or
 * was one stopped at its time budget (its tables are the token scan's too)?
 */
function lostColumns(statements: readonly StatementLineage[]): boolean {
  return statements.some(
    (s) =>
      s.error?.code === 'E_PARSE_BUDGET' ||
      (s.status === 'fallback' && s.columns.length === 0 && s.sources.length > 0 && s.targets.length > 0),
  )
}

/** A file that could not be read as SQL at all. */
export function fileFailure(
  options: Pick<ExtractOptions, 'path' | 'dialect'>,
  code: string,
  message: string,
  src?: SourceText,
): FileLineage {
  const issue: LineageIssue = src ? src.issue(code, message, 0) : {code, message, line: 1, column: 1, snippet: ''}
  return {
    path: options.path,
    dialect: options.dialect,
    status: 'failed',
    sources: [],
    targets: [],
    statements: [],
    errors: [issue],
    parserVersion: PARSER_VERSION,
  }
}
