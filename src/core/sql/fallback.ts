/**
 * The tolerant token scan used when no grammar accepts a statement: it reads table names after the
 * keywords that introduce them (FROM, JOIN, INTO, UPDATE, TABLE, USING, MERGE INTO, ... ) and ignores
 * CTE names, function calls (`FROM` inside `EXTRACT(... FROM ...)`), subquery brackets and paths. It is a
 * heuristic: results are marked `status: 'fallback'`, never passed off as a grammar's. It reports whether
 * the statement had any table-introducing keyword at all, so that finding nothing after one is a failure
 * while a statement without one (a bare `SELECT 1 + x`) honestly has no lineage.
 */
import {isNamePart, KEYWORDS_BEFORE_PAREN, readName, skipGroup} from './token-utils.js'
import type {Token} from './lexer.js'

export interface ScanResult {
  sources: Set<string>
  targets: Set<string>
  paths: Set<string>
  /** A FROM/JOIN/INTO/... keyword was seen, so an empty result means the scan failed. */
  expectedTables: boolean
}

const SOURCE_WORDS = new Set(['FROM', 'JOIN', 'USING'])
const NOT_A_NAME = new Set([
  'SELECT',
  'WITH',
  'VALUES',
  'LATERAL',
  'UNNEST',
  'TABLE',
  'ONLY',
  'DUAL',
  'WHERE',
  'SET',
  'ON',
  'AS',
  'IF',
  'NOT',
  'EXISTS',
  'OVERWRITE',
  'INTO',
  'DIRECTORY',
  'LOCAL',
  'OUTER',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
])

/** Scan a statement's tokens for the tables it reads and writes. */
export function scanTables(text: string, tokens: readonly Token[]): ScanResult {
  const out: ScanResult = {sources: new Set(), targets: new Set(), paths: new Set(), expectedTables: false}
  const ctes = cteNames(text, tokens)
  const calls: boolean[] = []
  let selectSeen = false
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (!t) break
    if (t.up === '(') {
      const prev = tokens[i - 1]
      calls.push(prev !== undefined && isNamePart(prev) && !KEYWORDS_BEFORE_PAREN.has(prev.up))
      continue
    }
    if (t.up === ')') {
      calls.pop()
      continue
    }
    if (t.kind !== 'word' || calls.includes(true)) continue
    if (t.up === 'SELECT') selectSeen = true
    const role = roleOf(tokens, i, selectSeen)
    if (!role) continue
    const into = role.kind === 'source' ? out.sources : out.targets
    const read = readTables(text, tokens, role.at, {
      into,
      ctes,
      paths: out.paths,
      list: role.list,
      target: role.kind === 'target',
    })
    if (read.unreadable) out.expectedTables = true
    i = read.next
  }
  return out
}

interface Role {
  kind: 'source' | 'target'
  /** Index of the first token of the name. */
  at: number
  /** Comma-separated list (FROM a, b). */
  list: boolean
}

function roleOf(tokens: readonly Token[], i: number, selectSeen: boolean): Role | null {
  const t = tokens[i]
  const next = tokens[i + 1]?.up
  if (!t) return null
  if (t.up === 'FROM' && tokens[i - 1]?.up === 'DELETE')
    return {kind: 'target', at: i + (next === 'TABLE' ? 2 : 1), list: false}
  if (SOURCE_WORDS.has(t.up)) {
    if (t.up === 'USING' && next === '(' && tokens[i + 2]?.up !== 'SELECT') return null // JOIN ... USING (col)
    const at = next === 'LATERAL' || next === 'ONLY' ? i + 2 : i + 1
    return {kind: 'source', at, list: t.up === 'FROM'}
  }
  if (t.up === 'INTO') return {kind: 'target', at: i + (next === 'TABLE' ? 2 : 1), list: false}
  if (t.up === 'OVERWRITE')
    return next === 'DIRECTORY' || next === 'LOCAL'
      ? null
      : {kind: 'target', at: i + (next === 'TABLE' ? 2 : 1), list: false}
  if (t.up === 'UPDATE' && (i === 0 || tokens[i - 1]?.up === ')') && !selectSeen)
    return {kind: 'target', at: i + 1, list: false}
  if (
    (t.up === 'TABLE' || t.up === 'VIEW') &&
    i <= 8 &&
    [
      'CREATE',
      'REPLACE',
      'TEMPORARY',
      'TEMP',
      'OR',
      'EXTERNAL',
      'TRANSIENT',
      'VOLATILE',
      'MATERIALIZED',
      'SECURE',
      'GLOBAL',
      'LOCAL',
    ].includes(tokens[i - 1]?.up ?? '')
  ) {
    let at = i + 1
    while (['IF', 'NOT', 'EXISTS'].includes(tokens[at]?.up ?? '')) at++
    return {kind: 'target', at, list: false}
  }
  return null
}

interface ReadContext {
  into: Set<string>
  ctes: ReadonlySet<string>
  paths: Set<string>
  /** Comma-separated list (FROM a, b). */
  list: boolean
  /** A written table: `t (a, b)` is the table and its column list, not a function call. */
  target: boolean
}

/**
 * Read one name (or a comma-separated list) at i. `next` is the index to continue from; `unreadable`
 * when what follows the keyword is neither a name, a path, a subquery nor a function call.
 */
function readTables(
  text: string,
  tokens: readonly Token[],
  i: number,
  c: ReadContext,
): {next: number; unreadable: boolean} {
  let j = i
  for (;;) {
    const t = tokens[j]
    if (!t) return {next: j, unreadable: true}
    if (t.kind === 'string') {
      c.paths.add(text.slice(t.start + 1, t.end - 1))
      return {next: j, unreadable: false}
    }
    if (t.up === '(') return {next: j - 1, unreadable: false} // a subquery: its own FROM is scanned in turn
    const name = readName(text, tokens, j)
    if (!name || NOT_A_NAME.has(name.name.toUpperCase())) return {next: j - 1, unreadable: true}
    const call = tokens[name.next]?.up === '('
    if (call && !c.target) return {next: name.next - 1, unreadable: false} // a table function
    if (name.name.includes('/') || name.raw.startsWith('@')) c.paths.add(name.raw)
    else if (!c.ctes.has(name.name)) c.into.add(name.name)
    if (call) return {next: skipGroup(tokens, name.next) - 1, unreadable: false}
    j = name.next
    if (tokens[j]?.up === 'AS') j++
    if (isNamePart(tokens[j]) && !STOP.has(tokens[j]?.up ?? '')) j++
    if (!c.list || tokens[j]?.up !== ',') return {next: j - 1, unreadable: false}
    j++
  }
}

const STOP = new Set([
  'WHERE',
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'ON',
  'GROUP',
  'ORDER',
  'HAVING',
  'LIMIT',
  'UNION',
  'SET',
  'USING',
  'WHEN',
  'SELECT',
  'VALUES',
  'PARTITION',
  'LATERAL',
  'WINDOW',
  'QUALIFY',
  'EXCEPT',
  'INTERSECT',
  'NATURAL',
  'OUTER',
  'FROM',
  'INTO',
  'WITH',
  'OVERWRITE',
  'TABLE',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
])

/** Names defined by WITH clauses (`WITH a AS (...), b (x) AS (...)`). */
export function cteNames(text: string, tokens: readonly Token[]): Set<string> {
  const names = new Set<string>()
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]?.up !== 'WITH' || tokens[i + 1]?.up === '(') continue
    let j = tokens[i + 1]?.up === 'RECURSIVE' ? i + 2 : i + 1
    for (;;) {
      const name = readName(text, tokens, j)
      if (!name) break
      let k = name.next
      const bodyWithoutAs = tokens[k]?.up === '(' && ['SELECT', 'WITH'].includes(tokens[k + 1]?.up ?? '')
      if (tokens[k]?.up === '(' && !bodyWithoutAs) k = skipGroup(tokens, k)
      if (tokens[k]?.up !== 'AS' && !bodyWithoutAs) break
      names.add(name.name)
      if (!bodyWithoutAs) k++
      while (['NOT', 'MATERIALIZED'].includes(tokens[k]?.up ?? '')) k++
      if (tokens[k]?.up !== '(') break
      k = skipGroup(tokens, k)
      if (tokens[k]?.up !== ',') break
      j = k + 1
    }
  }
  return names
}
