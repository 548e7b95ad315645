/**
 * Statements that write a table from a query: INSERT [INTO|OVERWRITE] [TABLE] t [PARTITION (...)]
 * [(cols)] query|VALUES, CREATE TABLE t [(cols)] ... AS query, CREATE|ALTER VIEW v [(cols)] ... AS query,
 * INSERT OVERWRITE DIRECTORY 'path' query. The header is read from tokens (its dialect variations carry
 * no lineage and trip the grammars); the header is then blanked out with spaces, leaving a plain query at
 * its original offsets for the grammars (a leading `WITH` clause stays, so `WITH ... INSERT` works).
 */
import {analyzeQuery, type QueryOutcome} from './attempt.js'
import {blank, applyEdits, type Edit} from './edits.js'
import {rememberBlanked, type Token} from './lexer.js'
import {definedColumns, failed, mapColumns, newResult, type StmtResult} from './result.js'
import type {StatementContext} from './context.js'
import {findTop, groupItems, readName, skipGroup, skipWords, stringValue} from './token-utils.js'

const INSERT_MODIFIERS = new Set([
  'LOW_PRIORITY',
  'DELAYED',
  'HIGH_PRIORITY',
  'IGNORE',
  'OR',
  'REPLACE',
  'ROLLBACK',
  'ABORT',
  'FAIL',
])
const QUERY_START = new Set(['SELECT', 'WITH', '(', 'VALUES', 'FROM', 'TABLE'])
const TAIL = new Set(['ON', 'RETURNING'])

interface Header {
  target: string
  names: string[] | null
  /** Static partition columns (`PARTITION (dt = '2024-01-01')`): given a value, not filled by the query. */
  fixed: string[]
  /** Index of the first token of the body (query or VALUES). */
  body: number
}

/** INSERT ... SELECT / VALUES. */
export function extractInsert(
  text: string,
  tokens: readonly Token[],
  at: number,
  ctx: StatementContext,
): StmtResult | null {
  const header = insertHeader(text, tokens, at)
  if (!header) return null
  const first = tokens[header.body]
  if (!first) return writeOnly('INSERT', header.target)
  if (first.up === 'VALUES') return insertValues(text, tokens, header, ctx)
  if (first.up === 'DEFAULT') return writeOnly('INSERT', header.target)
  if (!QUERY_START.has(first.up)) return null
  const end = queryEnd(tokens, header.body)
  const result = fromQuery('INSERT', text, tokens, header.body, end, ctx)
  return finishWrite(result, header.target, header.names, ctx, header.fixed)
}

/** CREATE TABLE ... AS query, CREATE VIEW ... AS query. */
export function extractCreateAs(
  text: string,
  tokens: readonly Token[],
  at: number,
  kind: string,
  ctx: StatementContext,
): StmtResult | null {
  const objectAt = tokens.findIndex((t, i) => i > at && (t.up === 'TABLE' || t.up === 'VIEW'))
  if (objectAt < 0) return null
  const nameAt = skipWords(tokens, objectAt + 1, new Set(['IF', 'NOT', 'EXISTS']))
  const name = readName(text, tokens, nameAt)
  if (!name) return null
  let names: string[] | null = null
  if (tokens[name.next]?.up === '(') names = itemNames(text, tokens, name.next)
  let body = findTop(tokens, name.next, new Set(['AS']))
  if (body >= 0 && QUERY_START.has(tokens[body + 1]?.up ?? '')) body++
  else body = findTop(tokens, name.next, new Set(['SELECT', 'WITH']))
  if (body < 0) return null
  const end = tokens[body]?.up === '(' ? skipGroup(tokens, body) : tokens.length
  const result = fromQuery(kind === 'CREATE TABLE' ? 'CREATE TABLE AS' : kind, text, tokens, body, end, ctx)
  return finishWrite(result, name.name, names, ctx)
}

/** INSERT OVERWRITE [LOCAL] DIRECTORY 'path' [options] query: the path is written, not a table. */
export function extractInsertDirectory(
  text: string,
  tokens: readonly Token[],
  at: number,
  ctx: StatementContext,
): StmtResult {
  const pathTok = tokens.find((t, i) => i > at && t.kind === 'string')
  let body = findTop(tokens, at + 1, new Set(['SELECT', 'WITH', 'FROM']))
  if (body > 0 && tokens[body - 1]?.up === '(') body--
  if (body < 0) return failed('INSERT', 'E_PARSE', 'no query found after INSERT OVERWRITE DIRECTORY', null)
  const result = fromQuery('INSERT', text, tokens, body, tokens.length, ctx)
  if (pathTok) result.targetPaths.add(stringValue(text, pathTok))
  return result
}

/** The lineage of the query in tokens [from, to) of `text`, everything else blanked. */
export function fromQuery(
  kind: string,
  text: string,
  tokens: readonly Token[],
  from: number,
  to: number,
  ctx: StatementContext,
): StmtResult {
  const outcome = queryOnly(text, tokens, from, to, ctx)
  if (!outcome.ok) {
    const r = failed(kind, 'E_PARSE', outcome.message, outcome.offset)
    r.warnings.push(...outcome.warnings)
    return r
  }
  const r = newResult(kind, outcome.grammar)
  for (const t of outcome.tables) r.sources.add(t)
  for (const p of outcome.paths) r.sourcePaths.add(p)
  r.warnings.push(...outcome.warnings)
  r.output = outcome.columns
  return r
}

/** Parse tokens [from, to) as a query, keeping a WITH clause before `from` when the statement has one. */
export function queryOnly(
  text: string,
  tokens: readonly Token[],
  from: number,
  to: number,
  ctx: StatementContext,
): QueryOutcome {
  const edits: Edit[] = []
  const start = tokens[from]?.start ?? text.length
  const keepWith = tokens[0]?.up === 'WITH' && from > 0 ? withClauseEnd(tokens, from) : 0
  const headStart = keepWith > 0 ? (tokens[keepWith]?.start ?? start) : 0
  if (start > headStart) edits.push(blank(text, headStart, start))
  const tailStart = tokens[to]?.start
  if (tailStart !== undefined) edits.push(blank(text, tailStart, text.length))
  const sql = applyEdits(text, edits).text
  rememberBlanked(sql, ctx.dialect.lex, tokens, [
    [0, keepWith],
    [from, to],
  ])
  return analyzeQuery(sql, ctx.dialect, ctx.query)
}

/** For `WITH ctes INSERT ...`: the index of the statement word after the CTE list. */
function withClauseEnd(tokens: readonly Token[], limit: number): number {
  const at = findTop(tokens, 1, new Set(['INSERT', 'REPLACE', 'UPSERT', 'CREATE']), limit + 1)
  return at > 0 ? at : 0
}

function finishWrite(
  result: StmtResult,
  target: string,
  names: string[] | null,
  ctx: StatementContext,
  fixed: string[] = [],
): StmtResult {
  result.targets.add(target)
  const cols = result.output
  if (cols && result.status !== 'failed') {
    result.columns = mapColumns(target, cols, names, ctx.schema, fixed)
    const defined = names ?? definedColumns(cols)
    if (defined) result.defines.push({table: target, columns: defined})
  }
  return result
}

function writeOnly(kind: string, target: string): StmtResult {
  const r = newResult(kind, 'keywords')
  r.targets.add(target)
  return r
}

function insertHeader(text: string, tokens: readonly Token[], at: number): Header | null {
  let i = skipWords(tokens, at + 1, INSERT_MODIFIERS)
  if (tokens[i]?.up === 'ALL' || tokens[i]?.up === 'FIRST') return null // Oracle multi-table insert
  i = skipWords(tokens, i, new Set(['INTO', 'OVERWRITE']))
  if (tokens[i]?.up === 'TABLE') i++
  const name = readName(text, tokens, i)
  if (!name || QUERY_START.has(name.name.toUpperCase())) return null
  let names: string[] | null = null
  const fixed: string[] = []
  let j = name.next
  for (;;) {
    const up = tokens[j]?.up
    if (up === 'PARTITION' && tokens[j + 1]?.up === '(') {
      fixed.push(...staticPartitionColumns(text, tokens, j + 1))
      j = skipGroup(tokens, j + 1)
    } else if (up === 'IF' && tokens[j + 1]?.up === 'NOT') j += 3
    else if (up === 'AS' && tokens[j + 1]?.kind === 'word' && !QUERY_START.has(tokens[j + 1]?.up ?? '')) j += 2
    else if (up === 'WITH' && tokens[j + 1]?.up === '(') j = skipGroup(tokens, j + 1)
    else if (up === '(' && !QUERY_START.has(tokens[j + 1]?.up ?? '')) {
      names = itemNames(text, tokens, j)
      j = skipGroup(tokens, j)
    } else break
  }
  return {target: name.name, names, fixed, body: j}
}

/** The first name of each top-level item of the group at `open` (column lists and definitions). */
export function itemNames(text: string, tokens: readonly Token[], open: number): string[] {
  return groupItems(tokens, open)
    .map(([a]) => readName(text, tokens, a))
    .filter((n): n is NonNullable<typeof n> => n !== null)
    .map((n) => n.name.split('.').pop() ?? n.name)
}

/** Where a query body ends: before ON DUPLICATE KEY / ON CONFLICT / RETURNING tails. */
function queryEnd(tokens: readonly Token[], from: number): number {
  let j = findTop(tokens, from, TAIL)
  while (j >= 0 && tokens[j]?.up === 'ON' && !['DUPLICATE', 'CONFLICT'].includes(tokens[j + 1]?.up ?? '')) {
    j = findTop(tokens, j + 1, TAIL)
  }
  return j < 0 ? tokens.length : j
}

/** INSERT ... VALUES (...): the target, and the tables of any subquery among the values. */
function insertValues(text: string, tokens: readonly Token[], header: Header, ctx: StatementContext): StmtResult {
  const r = newResult('INSERT', 'keywords')
  r.targets.add(header.target)
  for (let j = header.body; j < tokens.length; j++) {
    if (tokens[j]?.up !== '(' || !['SELECT', 'WITH'].includes(tokens[j + 1]?.up ?? '')) continue
    const end = skipGroup(tokens, j)
    const sub = fromQuery('INSERT', text, tokens, j + 1, end - 1, ctx)
    if (sub.status === 'failed') return {...sub, targets: r.targets}
    for (const s of sub.sources) r.sources.add(s)
    r.grammar = sub.grammar
    j = end - 1
  }
  return r
}

/** `PARTITION (dt = '2024-01-01', region)`: the columns given a value (`dt`). */
function staticPartitionColumns(text: string, tokens: readonly Token[], open: number): string[] {
  return groupItems(tokens, open)
    .filter(([a, b]) => tokens.slice(a, b).some((t) => t.up === '='))
    .map(([a]) => readName(text, tokens, a)?.name ?? '')
    .filter((n) => n !== '')
}
