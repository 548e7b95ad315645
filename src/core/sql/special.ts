/**
 * Statements of fixed form, read from their keywords (grammar `keywords`): DROP TABLE/VIEW (drops),
 * RENAME TABLE and ALTER TABLE ... RENAME TO (renames), ALTER TABLE ... SWAP WITH / EXCHANGE PARTITION
 * ... WITH TABLE (the other table's rows move into this one), CREATE TABLE with column definitions (the
 * columns feed the schema catalogue), CREATE TABLE ... LIKE/CLONE, COPY, UNLOAD and LOAD DATA (file and
 * URI locations are paths, never tables; a query inside them is parsed by the grammars).
 */
import {analyzeQuery} from './attempt.js'
import type {StatementContext} from './context.js'
import type {Token} from './lexer.js'
import {failed, newResult, type StmtResult} from './result.js'
import {itemNames, queryOnly} from './writes.js'
import {findTop, groupItems, readName, skipGroup, skipWords, stringValue} from './token-utils.js'

const IF_EXISTS = new Set(['IF', 'EXISTS', 'NOT'])

export function extractDrop(text: string, tokens: readonly Token[], at: number): StmtResult {
  const kind = `DROP ${tokens[at + 1]?.up ?? ''}`
  const r = newResult(kind, 'keywords')
  let i = skipWords(tokens, at + 2, IF_EXISTS)
  for (;;) {
    const name = readName(text, tokens, i)
    if (!name) break
    r.drops.push(name.name)
    if (tokens[name.next]?.up !== ',') break
    i = name.next + 1
  }
  return r.drops.length > 0 ? r : failed(kind, 'E_PARSE', 'no table name after DROP', null)
}

/** MySQL RENAME TABLE a TO b [, c TO d]. */
export function extractRename(text: string, tokens: readonly Token[], at: number): StmtResult {
  const r = newResult('RENAME TABLE', 'keywords')
  let i = tokens[at + 1]?.up === 'TABLE' || tokens[at + 1]?.up === 'TABLES' ? at + 2 : at + 1
  for (;;) {
    const from = readName(text, tokens, i)
    const to = from && tokens[from.next]?.up === 'TO' ? readName(text, tokens, from.next + 1) : null
    if (!from || !to) break
    r.renames.push({from: from.name, to: to.name})
    if (tokens[to.next]?.up !== ',') break
    i = to.next + 1
  }
  return r.renames.length > 0 ? r : failed('RENAME TABLE', 'E_PARSE', 'expected RENAME TABLE a TO b', null)
}

/** ALTER TABLE t RENAME TO u | SWAP WITH u | EXCHANGE PARTITION (...) WITH TABLE u | anything else. */
export function extractAlterTable(text: string, tokens: readonly Token[], at: number): StmtResult {
  const r = newResult('ALTER TABLE', 'keywords')
  const table = readName(text, tokens, skipWords(tokens, at + 2, IF_EXISTS))
  if (!table) return failed('ALTER TABLE', 'E_PARSE', 'no table name after ALTER TABLE', null)
  let i = table.next
  if (tokens[i]?.up === 'PARTITION' && tokens[i + 1]?.up === '(') i = skipGroup(tokens, i + 1)
  const verb = tokens[i]?.up
  if (verb === 'RENAME' && (tokens[i + 1]?.up === 'TO' || tokens[i + 1]?.up === 'AS')) {
    const to = readName(text, tokens, i + 2)
    if (to) r.renames.push({from: table.name, to: to.name})
  } else if (verb === 'SWAP' && tokens[i + 1]?.up === 'WITH') {
    const other = readName(text, tokens, i + 2)
    if (other) addPair(r, other.name, table.name)
  } else if (verb === 'EXCHANGE') {
    const withAt = findTop(tokens, i + 1, new Set(['WITH']))
    const other = withAt > 0 ? readName(text, tokens, skipWords(tokens, withAt + 1, new Set(['TABLE']))) : null
    if (other) addPair(r, other.name, table.name)
  }
  return r
}

function addPair(r: StmtResult, source: string, target: string): void {
  r.sources.add(source)
  r.targets.add(target)
}

/** CREATE TABLE t (definitions) | LIKE s | CLONE s | (LIKE s). */
export function extractCreateTable(text: string, tokens: readonly Token[], at: number): StmtResult {
  const r = newResult('CREATE TABLE', 'keywords')
  const tableAt = tokens.findIndex((t, i) => i > at && t.up === 'TABLE')
  const name = readName(text, tokens, skipWords(tokens, tableAt + 1, IF_EXISTS))
  if (tableAt < 0 || !name) return failed('CREATE TABLE', 'E_PARSE', 'no table name after CREATE TABLE', null)
  r.targets.add(name.name)
  const next = tokens[name.next]?.up
  const likeAt = next === '(' && tokens[name.next + 1]?.up === 'LIKE' ? name.next + 1 : name.next
  if (tokens[likeAt]?.up === 'LIKE' || tokens[likeAt]?.up === 'CLONE') {
    const src = readName(text, tokens, likeAt + 1)
    if (src) r.sources.add(src.name)
  } else if (next === '(') {
    const cols = itemNames(text, tokens, name.next).filter((c) => !CONSTRAINTS.has(c.toUpperCase()))
    if (cols.length > 0) r.defines.push({table: name.name, columns: cols})
  }
  return r
}

const CONSTRAINTS = new Set([
  'CONSTRAINT',
  'PRIMARY',
  'FOREIGN',
  'UNIQUE',
  'KEY',
  'INDEX',
  'CHECK',
  'FULLTEXT',
  'SPATIAL',
  'PERIOD',
  'EXCLUDE',
  'LIKE',
])

/** COPY [INTO] t FROM 'path' | COPY [INTO] 'path'|@stage FROM t|(query) | COPY t|(query) TO 'path'. */
export function extractCopy(text: string, tokens: readonly Token[], at: number, ctx: StatementContext): StmtResult {
  let r = newResult('COPY', 'keywords')
  const i = tokens[at + 1]?.up === 'INTO' ? at + 2 : at + 1
  const dir = findTop(tokens, i, new Set(['FROM', 'TO']))
  if (dir < 0) return failed('COPY', 'E_PARSE', 'expected FROM or TO in COPY', null)
  const left = endpoint(text, tokens, i, ctx)
  const right = endpoint(text, tokens, dir + 1, ctx)
  const [src, dst] = tokens[dir]?.up === 'FROM' ? [right, left] : [left, right]
  if (src.result) r = src.result
  r.kind = 'COPY'
  if (src.table) r.sources.add(src.table)
  if (src.path) r.sourcePaths.add(src.path)
  if (dst.table) r.targets.add(dst.table)
  if (dst.path) r.targetPaths.add(dst.path)
  return r
}

interface Endpoint {
  table?: string
  path?: string
  result?: StmtResult
}

function endpoint(text: string, tokens: readonly Token[], i: number, ctx: StatementContext): Endpoint {
  const t = tokens[i]
  if (!t) return {}
  if (t.kind === 'string') return {path: stringValue(text, t)}
  if (t.up.startsWith('@')) return {path: /^[^\s;)]+/.exec(text.slice(t.start))?.[0] ?? t.up}
  if (t.up === '(') {
    const end = skipGroup(tokens, i)
    const q = queryOnly(text, tokens, i + 1, end - 1, ctx)
    const r = q.ok ? newResult('COPY', q.grammar) : failed('COPY', 'E_PARSE', q.message, q.offset)
    if (q.ok) for (const s of q.tables) r.sources.add(s)
    return {result: r}
  }
  const name = readName(text, tokens, i)
  return name ? {table: name.name} : {}
}

/** Redshift UNLOAD ('query') TO 's3://...': the query is read from the string. */
export function extractUnload(text: string, tokens: readonly Token[], at: number, ctx: StatementContext): StmtResult {
  const open = tokens[at + 1]?.up === '(' ? at + 2 : at + 1
  const q = tokens[open]
  const to = findTop(tokens, at + 1, new Set(['TO']))
  const path = tokens[to + 1]
  if (q?.kind !== 'string') return failed('UNLOAD', 'E_PARSE', "expected UNLOAD ('query') TO 'location'", null)
  const inner = stringValue(text, q)
  const outcome = analyzeQuery(inner, ctx.dialect, ctx.query)
  const r = outcome.ok
    ? newResult('UNLOAD', outcome.grammar)
    : failed('UNLOAD', 'E_PARSE', outcome.message, q.start + 1 + (outcome.offset ?? 0))
  if (outcome.ok) for (const s of outcome.tables) r.sources.add(s)
  if (to > 0 && path?.kind === 'string') r.targetPaths.add(stringValue(text, path))
  return r
}

/** LOAD DATA [LOCAL] INPATH|INFILE 'path' [OVERWRITE] INTO TABLE t. */
export function extractLoad(text: string, tokens: readonly Token[], at: number): StmtResult {
  const r = newResult('LOAD', 'keywords')
  const pathTok = tokens.find((t, i) => i > at && t.kind === 'string')
  if (pathTok) r.sourcePaths.add(stringValue(text, pathTok))
  const into = findTop(tokens, at + 1, new Set(['INTO']))
  const name = into > 0 ? readName(text, tokens, skipWords(tokens, into + 1, new Set(['TABLE']))) : null
  if (!name) return failed('LOAD', 'E_PARSE', 'expected INTO TABLE name in LOAD', null)
  r.targets.add(name.name)
  return r
}

/**
 * Vertica's `SELECT SWAP_PARTITIONS_BETWEEN_TABLES('staging', min, max, 'target')` moves partitions
 * from the first table into the last: lineage hidden in a function call.
 */
export function swapPartitionFunctions(text: string, tokens: readonly Token[], r: StmtResult): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]?.up !== 'SWAP_PARTITIONS_BETWEEN_TABLES' || tokens[i + 1]?.up !== '(') continue
    const args = groupItems(tokens, i + 1)
    const from = tokens[args[0]?.[0] ?? -1]
    const to = tokens[args[3]?.[0] ?? -1]
    if (args.length !== 4 || from?.kind !== 'string' || to?.kind !== 'string') continue
    r.sources.add(stringValue(text, from).toLowerCase())
    r.targets.add(stringValue(text, to).toLowerCase())
  }
}
