/**
 * Procedures, functions, triggers and anonymous blocks with a body: the body (between the first BEGIN
 * and its END, or after AS for a T-SQL routine without BEGIN) is cut into statements at `;`, each cut
 * at its first top-level statement keyword (so `IF x THEN INSERT ...`, `LOOP INSERT ...` and
 * `EXCEPTION WHEN e THEN SELECT ...` yield the INSERT or SELECT), and each is extracted on its own. The
 * routine is one statement whose lineage is the union of its body's, as running it does all of them;
 * procedural lines (assignments, IF, LOOP, RAISE) carry no lineage and are skipped. A routine without
 * such a body (Spark `CREATE FUNCTION f AS 'Class'`, a `$$` body in another language) has no lineage.
 */
import type {StatementContext} from './context.js'
import {tokenize, type Token} from './lexer.js'
import {newResult, type StmtResult} from './result.js'
import {findTop} from './token-utils.js'

export interface BodyTools {
  extract: (text: string, ctx: StatementContext) => StmtResult
  /** Where to cut a piece whose parse stopped at a new statement (bodies often omit `;`). */
  resplit: (text: string, r: StmtResult, ctx: StatementContext) => number | null
}

const STARTS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'CREATE',
  'WITH',
  'DROP',
  'ALTER',
  'REPLACE',
  'UPSERT',
  'COPY',
  'UNLOAD',
  'RENAME',
  'TRUNCATE',
])
const NOT_A_BLOCK = new Set(['TRAN', 'TRANSACTION', 'WORK', 'DISTRIBUTED'])
const CONTROL = new Set(['IF', 'WHILE', 'ELSE'])
/** Languages whose `$$` bodies are SQL (a JavaScript or Python body is not read). */
const SQL_LANGUAGES = new Set(['SQL', 'PLPGSQL', 'PLSQL', 'SNOWFLAKE'])

export function extractRoutine(
  text: string,
  tokens: readonly Token[],
  kind: string,
  ctx: StatementContext,
  tools: BodyTools,
): StmtResult {
  const body = routineBody(text, tokens, kind, ctx)
  if (!body) return newResult(kind, 'keywords')
  const inner = {...ctx, inBody: true}
  const r = newResult(kind, null)
  const queue = bodyStatements(text.slice(body.start, body.end), inner)
  for (let piece = queue.shift(); piece; piece = queue.shift()) {
    const sub = tools.extract(piece.text, inner)
    const cut = tools.resplit(piece.text, sub, inner)
    if (cut !== null) {
      queue.unshift(
        {text: piece.text.slice(0, cut).trimEnd(), offset: piece.offset},
        {text: piece.text.slice(cut), offset: piece.offset + cut},
      )
      continue
    }
    merge(r, sub, body.start + piece.offset)
  }
  r.grammar ??= 'keywords'
  return r
}

/**
 * A top-level control-flow statement (IF/WHILE/ELSE, an anonymous BEGIN ... END block) as the
 * statements it wraps, [start, end) offsets in `text`; null when it wraps none. Unlike a routine's body,
 * these run where they stand, so the file keeps them as statements of their own.
 */
export function blockPieces(
  text: string,
  tokens: readonly Token[],
  kind: string,
  ctx: StatementContext,
): {start: number; end: number}[] | null {
  const body = routineBody(text, tokens, kind, ctx)
  if (!body) return null
  const pieces = bodyStatements(text.slice(body.start, body.end), ctx)
  if (pieces.length === 0) return null
  return pieces.map((p) => ({start: body.start + p.offset, end: body.start + p.offset + p.text.length}))
}

function routineBody(
  text: string,
  tokens: readonly Token[],
  kind: string,
  ctx: StatementContext,
): {start: number; end: number} | null {
  // IF/WHILE/ELSE statements (T-SQL control flow) are their own body: `IF x INSERT ...`.
  if (CONTROL.has(kind)) return {start: 0, end: text.length}
  return bodyRange(tokens, ctx) ?? dollarBody(text, tokens)
}

/** Add a body statement's lineage to the routine's; the first failure becomes the routine's error. */
function merge(r: StmtResult, sub: StmtResult, offset: number): void {
  for (const s of sub.sources) r.sources.add(s)
  for (const t of sub.targets) r.targets.add(t)
  for (const p of sub.sourcePaths) r.sourcePaths.add(p)
  for (const p of sub.targetPaths) r.targetPaths.add(p)
  r.columns.push(...sub.columns)
  r.drops.push(...sub.drops)
  r.renames.push(...sub.renames)
  r.defines.push(...sub.defines)
  r.warnings.push(...sub.warnings)
  if (r.grammar === null && sub.grammar !== 'keywords') r.grammar = sub.grammar
  if (sub.status === 'failed' && r.status !== 'failed') {
    r.status = 'failed'
    r.error = sub.error ? {...sub.error, offset: offset + (sub.error.offset ?? 0)} : null
  } else if (sub.status === 'fallback' && r.status === 'ok') r.status = 'fallback'
}

/** Offsets of the body: after the first BEGIN to before its closing END (or after AS in T-SQL). */
function bodyRange(tokens: readonly Token[], ctx: StatementContext): {start: number; end: number} | null {
  const begin = tokens.findIndex((t, i) => t.up === 'BEGIN' && !NOT_A_BLOCK.has(tokens[i + 1]?.up ?? ''))
  if (begin >= 0) {
    let end = tokens.length - 1
    while (end > begin && tokens[end]?.up !== 'END') end--
    const from = tokens[begin]
    const to = tokens[end]
    if (!from || !to || end <= begin) return null
    return {start: from.end, end: to.start}
  }
  if (ctx.dialect.family !== 'tsql') return null
  const as = findTop(tokens, 1, new Set(['AS']))
  const first = tokens[as + 1]
  const last = tokens[tokens.length - 1]
  return as > 0 && first && last && first.kind === 'word' ? {start: first.start, end: last.end} : null
}

/** A `$$ ... $$` (or `$tag$ ... $tag$`) body in a SQL language: the text between the tags. */
function dollarBody(text: string, tokens: readonly Token[]): {start: number; end: number} | null {
  const lang = tokens.findIndex((t) => t.up === 'LANGUAGE')
  const name = tokens[lang + 1]
  if (lang >= 0 && name && !SQL_LANGUAGES.has(name.up.replace(/'/g, ''))) return null
  const body = tokens.find((t) => t.kind === 'string' && text.startsWith('$', t.start))
  if (!body) return null
  const tag = /^\$\w*\$/.exec(text.slice(body.start, body.end))?.[0] ?? '$$'
  return {start: body.start + tag.length, end: Math.max(body.start + tag.length, body.end - tag.length)}
}

/**
 * The statements of a body. Pieces end at `;` and at block keywords (BEGIN, END, ELSE outside a CASE
 * expression), since T-SQL bodies often omit semicolons; each piece starts at its first top-level
 * statement keyword, and pieces without one (assignments, RAISE, END IF) are dropped.
 */
function bodyStatements(body: string, ctx: StatementContext): {text: string; offset: number}[] {
  const tokens = tokenize(body, ctx.dialect.lex)
  const out: {text: string; offset: number}[] = []
  let first = 0
  let depth = 0
  let cases = 0
  for (let i = 0; i <= tokens.length; i++) {
    const t = tokens[i]
    if (t && !isBoundary(t, tokens[i + 1], depth, cases)) {
      if (t.up === '(') depth++
      else if (t.up === ')') depth = Math.max(0, depth - 1)
      else if (t.up === 'CASE') cases++
      else if (t.up === 'END' && cases > 0) cases--
      continue
    }
    const start = findTop(tokens, first, STARTS, i)
    const from = tokens[start]
    const last = tokens[i - 1]
    if (start >= 0 && from && last && last.end > from.start)
      out.push({text: body.slice(from.start, last.end), offset: from.start})
    first = i + 1
    depth = 0
  }
  return out
}

function isBoundary(t: Token, next: Token | undefined, depth: number, cases: number): boolean {
  if (depth > 0) return false
  if (t.up === ';') return true
  if (t.kind !== 'word') return false
  if (t.up === 'BEGIN') return !NOT_A_BLOCK.has(next?.up ?? '')
  return (t.up === 'END' || t.up === 'ELSE') && cases === 0
}
