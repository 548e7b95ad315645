/**
 * Decides from a statement's leading tokens what it is (its upper-case `kind`) and which extractor
 * handles it, before any grammar runs. Statements without lineage (SET, SHOW, USE, REFRESH, CACHE,
 * GRANT, ...) are recognised here and never parsed; statement forms every grammar rejects (MERGE, COPY,
 * UNLOAD, ALTER ... SWAP, INSERT OVERWRITE DIRECTORY, procedures) go straight to their own extractor,
 * which saves the cost of failed grammar attempts.
 */
import type {Token} from './lexer.js'
import {findTop, skipGroup} from './token-utils.js'

export type Route =
  | 'none'
  | 'query'
  | 'insert'
  | 'insert-dir'
  | 'ctas'
  | 'view'
  | 'ddl'
  | 'drop'
  | 'rename'
  | 'alter'
  | 'copy'
  | 'unload'
  | 'load'
  | 'merge'
  | 'routine'
  | 'block'
  | 'generic'

export interface Classified {
  route: Route
  kind: string
  /** Index of the first token of the statement proper (after a leading WITH clause for WITH ... INSERT). */
  at: number
}

const NO_LINEAGE = new Set([
  'SET',
  'SHOW',
  'USE',
  'REFRESH',
  'CACHE',
  'UNCACHE',
  'DESCRIBE',
  'DESC',
  'EXPLAIN',
  'ANALYZE',
  'GRANT',
  'REVOKE',
  'COMMIT',
  'ROLLBACK',
  'START',
  'END',
  'MSCK',
  'ADD',
  'LIST',
  'DECLARE',
  'PRINT',
  'EXEC',
  'EXECUTE',
  'CALL',
  'VACUUM',
  'OPTIMIZE',
  'COMMENT',
  'LOCK',
  'UNLOCK',
  'RESET',
  'CHECKPOINT',
  'FLUSH',
  'KILL',
  'SAVEPOINT',
  'RELEASE',
  'RAISE',
  'RAISERROR',
  'RETURN',
  'DBCC',
  'LISTEN',
  'NOTIFY',
  'PREPARE',
  'DEALLOCATE',
  'CLUSTER',
  'REINDEX',
  'PUT',
  'GET',
  'REMOVE',
  'OPEN',
  'CLOSE',
  'FETCH',
  'TRUNCATE',
  'ABORT',
  'CHECK',
  'DISCARD',
  'SECURITY',
  'REPAIR',
  'ZORDER',
  'INVALIDATE',
  'COMPUTE',
  'WAITFOR',
  'THROW',
  'BREAK',
  'CONTINUE',
  'GOTO',
  'DELIMITER',
  'SOURCE',
  'HELP',
  'PRAGMA',
  'ATTACH',
  'DETACH',
  'INSTALL',
  'UNDROP',
  'RESTORE',
  'BACKUP',
  'EXPORT',
  'IMPORT',
  'SUMMARIZE',
  'PIVOT',
  'DO',
  'LOOP',
  'FOR',
  'EXIT',
  'LEAVE',
  'ITERATE',
  'NULL',
  'SIGNAL',
  'RESIGNAL',
  'HANDLER',
  'DEFINE',
  'UNDEFINE',
  'SPOOL',
  'PROMPT',
  'WHENEVER',
  'SYNC',
])

const CREATE_MODIFIERS = new Set([
  'OR',
  'REPLACE',
  'ALTER',
  'GLOBAL',
  'LOCAL',
  'TEMP',
  'TEMPORARY',
  'VOLATILE',
  'TRANSIENT',
  'EXTERNAL',
  'UNLOGGED',
  'MULTISET',
  'SECURE',
  'MATERIALIZED',
  'RECURSIVE',
  'FORCE',
  'NO',
  'EDITIONABLE',
  'NONEDITIONABLE',
  'SHARED',
  'PRIVATE',
  'STREAMING',
  'LIVE',
  'HYBRID',
  'DYNAMIC',
  'ICEBERG',
  'SET',
  'UNIQUE',
])
const ROUTINE_OBJECTS = new Set(['FUNCTION', 'PROCEDURE', 'PROC', 'TRIGGER', 'PACKAGE', 'TYPE', 'MACRO', 'EVENT'])
const STATEMENT_WORDS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'REPLACE', 'UPSERT'])

/** Classify a statement from its tokens. */
export function classify(tokens: readonly Token[]): Classified {
  let at = 0
  while (tokens[at]?.up === '(') at++
  const w0 = tokens[at]?.up ?? ''
  if (w0 === 'SELECT' || w0 === 'VALUES' || w0 === 'TABLE' || w0 === 'FROM') return {route: 'query', kind: 'SELECT', at}
  if (w0 === 'WITH') return classifyWith(tokens, at)
  return classifyFrom(tokens, 0)
}

function classifyWith(tokens: readonly Token[], at: number): Classified {
  // Skip the CTE list: name [(cols)] AS [NOT] [MATERIALIZED] (body) [, ...]; then the statement proper.
  const main = findTop(tokens, at + 1, STATEMENT_WORDS)
  if (main < 0) return {route: 'query', kind: 'SELECT', at}
  const word = tokens[main]?.up ?? ''
  if (word === 'SELECT') return {route: 'query', kind: 'SELECT', at}
  const inner = classifyFrom(tokens, main)
  return inner.route === 'insert' ? {...inner, at: main} : {...inner, route: 'generic', at}
}

function classifyFrom(tokens: readonly Token[], i: number): Classified {
  const w = (k: number): string => tokens[i + k]?.up ?? ''
  const w0 = w(0)
  switch (w0) {
    case 'INSERT':
    case 'REPLACE':
    case 'UPSERT':
      if (w(1) === 'OVERWRITE' && (w(2) === 'DIRECTORY' || w(3) === 'DIRECTORY')) {
        return {route: 'insert-dir', kind: 'INSERT', at: i}
      }
      return {route: 'insert', kind: 'INSERT', at: i}
    case 'CREATE':
      return classifyCreate(tokens, i)
    case 'ALTER':
      if (w(1) === 'VIEW') return {route: 'view', kind: 'ALTER VIEW', at: i}
      if (ROUTINE_OBJECTS.has(w(1))) return {route: 'routine', kind: `ALTER ${w(1)}`, at: i}
      return {route: w(1) === 'TABLE' ? 'alter' : 'none', kind: `ALTER ${w(1)}`.trim(), at: i}
    case 'DROP':
      return {route: w(1) === 'TABLE' || w(1) === 'VIEW' ? 'drop' : 'none', kind: `DROP ${w(1)}`.trim(), at: i}
    case 'RENAME':
      return {route: 'rename', kind: 'RENAME TABLE', at: i}
    case 'MERGE':
      return {route: 'merge', kind: 'MERGE', at: i}
    case 'COPY':
      return {route: 'copy', kind: 'COPY', at: i}
    case 'UNLOAD':
      return {route: 'unload', kind: 'UNLOAD', at: i}
    case 'LOAD':
      return {route: 'load', kind: 'LOAD', at: i}
    case 'UPDATE':
      return {route: 'generic', kind: 'UPDATE', at: i}
    case 'DELETE':
      return {route: 'generic', kind: 'DELETE', at: i}
    case 'BEGIN':
      return blockOrTransaction(tokens, i)
    case 'IF':
    case 'WHILE':
    case 'ELSE':
      // T-SQL control flow wraps statements: `IF x INSERT ...`, `WHILE ... BEGIN ... END`.
      return {route: 'block', kind: w0, at: i}
    default:
      if (NO_LINEAGE.has(w0)) return {route: 'none', kind: w0, at: i}
      return {route: 'generic', kind: w0 || 'UNKNOWN', at: i}
  }
}

function blockOrTransaction(tokens: readonly Token[], i: number): Classified {
  const next = tokens[i + 1]?.up
  if (next === undefined || ['TRAN', 'TRANSACTION', 'WORK', 'DISTRIBUTED', 'ISOLATION'].includes(next)) {
    return {route: 'none', kind: 'BEGIN', at: i}
  }
  return {route: 'block', kind: 'BLOCK', at: i}
}

function classifyCreate(tokens: readonly Token[], i: number): Classified {
  let j = i + 1
  for (;;) {
    const t = tokens[j]
    if (!t) break
    if (CREATE_MODIFIERS.has(t.up)) j++
    else if ((t.up === 'DEFINER' || t.up === 'ALGORITHM') && tokens[j + 1]?.up === '=') j += 3
    else if (t.up === 'SQL' && tokens[j + 1]?.up === 'SECURITY') j += 3
    else break
  }
  const obj = tokens[j]?.up ?? ''
  if (ROUTINE_OBJECTS.has(obj)) return {route: 'routine', kind: `CREATE ${obj === 'PROC' ? 'PROCEDURE' : obj}`, at: i}
  if (obj === 'VIEW') return {route: 'view', kind: 'CREATE VIEW', at: i}
  if (obj !== 'TABLE') return {route: 'none', kind: `CREATE ${obj}`.trim(), at: i}
  return {route: ctasOrDdl(tokens, j + 1), kind: 'CREATE TABLE', at: i}
}

/** CREATE TABLE name ...: AS query (ctas), LIKE/CLONE (handled with ddl), or column definitions. */
function ctasOrDdl(tokens: readonly Token[], from: number): Route {
  for (let j = from; j < tokens.length; j++) {
    const up = tokens[j]?.up
    if (up === '(') j = skipGroup(tokens, j) - 1
    else if (up === 'AS') {
      const next = tokens[j + 1]?.up
      if (next === 'SELECT' || next === 'WITH' || next === '(' || next === 'VALUES' || next === 'FROM') return 'ctas'
    } else if (up === 'SELECT') return 'ctas'
  }
  return 'ddl'
}
