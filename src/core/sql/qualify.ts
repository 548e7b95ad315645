/**
 * Names resolved the way the warehouse resolves them: a bare `orders` read in a session whose default
 * schema is `sales` is `sales.orders`, so the same table written two ways is one node in the graph. The
 * defaults come from the caller (flags, environment) and change with the file's own session statements:
 * `USE db`, `USE DATABASE db`, `USE SCHEMA [db.]s`, `SET search_path TO s, ...`, `SET SCHEMA 's'`.
 * In the MySQL and Hive families a database is a schema, so `USE x` sets the schema there. Names already
 * qualified keep what they say; temporary tables (`#t`, `@t`) and unresolved columns (`?.c`) are left
 * alone. Pure; never throws.
 */
import {fold, resolvePart, type DialectInfo} from './dialects.js'
import {identText, type Token} from './lexer.js'

/** The session's default database and schema, already in the case the dialect gives them. */
export interface NameDefaults {
  database?: string
  schema?: string
}

/** The defaults after a session statement, or null when `tokens` is not one. */
export function sessionChange(
  text: string,
  tokens: readonly Token[],
  dialect: DialectInfo,
  current: NameDefaults,
): NameDefaults | null {
  const first = tokens[0]?.up
  if (first === 'USE') {
    let i = 1
    const what = tokens[i]?.up
    if ((what === 'DATABASE' || what === 'SCHEMA' || what === 'CATALOG') && tokens[i + 1]) i++
    const parts = nameParts(text, tokens, i, dialect)
    if (parts.length === 0) return null
    const last = parts[parts.length - 1] ?? ''
    if (what === 'SCHEMA')
      return parts.length > 1 ? {database: parts[0] ?? '', schema: last} : {...current, schema: last}
    if (what === 'DATABASE' || what === 'CATALOG') return {database: last}
    if (parts.length > 1) return {database: parts[0] ?? '', schema: last}
    return dialect.family === 'mysql' || dialect.family === 'hive' ? {schema: last} : {database: last}
  }
  if (first === 'SET') {
    const key = tokens[1]?.up
    if (key !== 'SEARCH_PATH' && key !== 'SCHEMA') return null
    let i = 2
    if (tokens[i]?.up === 'TO' || tokens[i]?.up === '=') i++
    const tok = tokens[i]
    if (!tok) return null
    const raw = tok.kind === 'string' ? text.slice(tok.start + 1, tok.end - 1) : identText(text, tok)
    // search_path is a list of names; quotes inside the string keep a name's case.
    const head = raw.split(',')[0]?.trim() ?? ''
    const quoted = tok.kind === 'qident' || /^".*"$/.test(head)
    const schema = resolvePart({text: head.replace(/^"|"$/g, ''), quoted}, dialect.names, 'table')
    return schema ? {...current, schema} : null
  }
  return null
}

/** The session's defaults given by flags or settings: written without quotes. */
export function foldDefaults(d: NameDefaults, dialect: DialectInfo): NameDefaults {
  const how = dialect.names.table.unquoted
  const out: NameDefaults = {}
  if (d.database) out.database = fold(d.database, how)
  if (d.schema) out.schema = fold(d.schema, how)
  return out
}

function nameParts(text: string, tokens: readonly Token[], i: number, dialect: DialectInfo): string[] {
  const parts: string[] = []
  for (let t = tokens[i]; t && (t.kind === 'word' || t.kind === 'qident'); t = tokens[i]) {
    parts.push(resolvePart({text: identText(text, t), quoted: t.kind === 'qident'}, dialect.names, 'table'))
    if (tokens[i + 1]?.up !== '.') break
    i += 2
  }
  return parts
}

/** `name` qualified by the defaults, when it needs and can have it. */
export function qualifyTable(name: string, d: NameDefaults): string {
  if (name === '' || name.startsWith('#') || name.startsWith('@') || name.startsWith('?')) return name
  const dots = name.split('.').length - 1
  if (dots === 0) {
    const prefix = [d.database, d.schema].filter((p): p is string => !!p).join('.')
    return prefix ? `${prefix}.${name}` : name
  }
  if (dots === 1 && d.database && d.schema) return `${d.database}.${name}`
  return name
}

/** BigQuery's partition decorator (`t$20240101`, `t$__UNPARTITIONED__`) names a part of table `t`. */
export function undecorate(name: string): string {
  return name.replace(/\$[^.$]*$/, '')
}
