/**
 * A statement's names resolved the way its warehouse resolves them. The extractor works on lower-cased names
 * (so that `Orders` and `orders` meet inside a statement); this step gives each name of its output the case
 * the dialect gives it (CASE_RULES in dialects.ts: unquoted parts folded to lower or upper case or kept,
 * quoted parts kept or folded), reading the statement's own text to see how each name was written, then
 * qualifies it by the session defaults (qualify.ts). `tokens` are the statement's, offsets into `text` (the
 * extractor passes the file's own, so nothing is tokenized twice). The resolved name is the graph's key; the
 * name as written, where it differs, is kept in `StatementLineage.written`. A name the text does not hold (a schema
 * catalogue column, a name read from a string) counts as unquoted; a column named after an expression is left
 * as it is. Pure; never throws.
 */
import type {ColumnLineage, StatementLineage} from '../types.js'
import {resolvePart, type CaseRule, type DialectInfo, type NamePart} from './dialects.js'
import {identText, tokenize, type Token} from './lexer.js'
import {qualifyTable, undecorate, type NameDefaults} from './qualify.js'
import {isNamePart} from './token-utils.js'

interface Written {
  parts: NamePart[]
  /** Where the name stands in the statement's text. */
  start: number
  end: number
}

const PLAIN_NAME = /^[\p{L}_][\p{L}\p{N}_$@#]*$/u

/** Keywords after which a name is a table's (an alias or column of the same letters is written elsewhere). */
const TABLE_CUES = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE', 'USING', 'VIEW', 'EXISTS', 'OVERWRITE'])

/**
 * Keywords, most of a statement's words, left out of the index. A name the index lacks counts as unquoted,
 * which an unquoted word is, so leaving one out never changes how a name resolves.
 */
const RESERVED = new Set([
  ...['SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'ON', 'JOIN', 'AS', 'INSERT', 'INTO', 'GROUP', 'BY'],
  ...['ORDER', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'NULL', 'IS', 'IN', 'LEFT', 'RIGHT', 'INNER', 'OUTER'],
  ...['FULL', 'CROSS', 'UNION', 'ALL', 'DISTINCT', 'HAVING', 'CREATE', 'TABLE', 'WITH', 'VALUES', 'SET'],
])

/** How names were first written, by lower-cased text: dotted names and single parts. */
class Seen {
  readonly names = new Map<string, Written>()
  readonly parts = new Map<string, NamePart>()
}

/**
 * How each dotted name and each name part of a statement was first written, by lower-cased text, apart for
 * names in a table's place (after FROM, JOIN, INTO, ...) and elsewhere: a table `"Events"` and a column
 * `events` resolve differently in Postgres.
 */
class WrittenNames {
  readonly tables = new Seen()
  readonly others = new Seen()

  constructor(
    private readonly text: string,
    tokens: readonly Token[],
  ) {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]
      if (!isNamePart(t) || tokens[i - 1]?.up === '.' || (t.kind === 'word' && RESERVED.has(t.up))) continue
      const seen = TABLE_CUES.has(tokens[i - 1]?.up ?? '') ? this.tables : this.others
      const parts: NamePart[] = []
      let key = ''
      let j = i
      for (let tok = tokens[j]; isNamePart(tok); tok = tokens[j]) {
        const part: NamePart = {text: identText(text, tok), quoted: tok.kind === 'qident'}
        const lower = part.text.toLowerCase()
        parts.push(part)
        if (!seen.parts.has(lower)) seen.parts.set(lower, part)
        key = key ? `${key}.${lower}` : lower
        if (!seen.names.has(key)) seen.names.set(key, {parts: [...parts], start: t.start, end: tok.end})
        if (tokens[j + 1]?.up !== '.') break
        j += 2
      }
    }
  }

  /** The name's text in the statement, quotes included. */
  raw(w: Written): string {
    return this.text.slice(w.start, w.end)
  }

  table(name: string): Written | undefined {
    return this.tables.names.get(name) ?? this.others.names.get(name)
  }

  part(p: string, kind: 'table' | 'column'): NamePart | undefined {
    const [first, second] = kind === 'table' ? [this.tables, this.others] : [this.others, this.tables]
    return first.parts.get(p) ?? second.parts.get(p)
  }
}

class Resolver {
  readonly written = new Map<string, string>()
  private readonly tables = new Map<string, string>()

  constructor(
    private readonly seen: WrittenNames,
    private readonly rule: CaseRule,
    private readonly defaults: NameDefaults,
    private readonly bigquery: boolean,
  ) {}

  /** A table name of the extractor's output, resolved and qualified; remembers how it was written. */
  table(name: string): string {
    const known = this.tables.get(name)
    if (known !== undefined) return known
    const w = this.seen.table(name)
    const parts = w ? w.parts : name.split('.').map((p) => this.seen.part(p, 'table') ?? {text: p, quoted: false})
    let resolved = name.startsWith('?') ? name : parts.map((p) => resolvePart(p, this.rule, 'table')).join('.')
    if (this.bigquery) resolved = undecorate(resolved)
    resolved = qualifyTable(resolved, this.defaults)
    this.tables.set(name, resolved)
    const raw = w ? this.seen.raw(w) : null
    if (raw !== null && raw !== resolved) this.written.set(resolved, raw)
    return resolved
  }

  /** `table.column` with both parts resolved; `tables` are the statement's tables, to split it right. */
  column(key: string, tables: readonly string[]): string {
    const table = tables.find((t) => key.startsWith(`${t}.`)) ?? key.slice(0, Math.max(0, key.lastIndexOf('.')))
    if (!table) return key
    const column = key.slice(table.length + 1)
    return `${this.table(table)}.${this.columnPart(column)}`
  }

  private columnPart(column: string): string {
    const p = this.seen.part(column, 'column')
    if (p) return resolvePart(p, this.rule, 'column')
    return PLAIN_NAME.test(column) ? resolvePart({text: column, quoted: false}, this.rule, 'column') : column
  }
}

/**
 * Resolve every table and column name of a statement's lineage in place: the dialect's case rules, the
 * session defaults, BigQuery partition decorators dropped; `written` keeps each name as written where the
 * resolved one differs.
 */
export function qualifyStatement(
  st: StatementLineage,
  defaults: NameDefaults,
  dialect: DialectInfo,
  text: string,
  tokens: readonly Token[] = tokenize(text, dialect.lex),
): void {
  const r = new Resolver(new WrittenNames(text, tokens), dialect.names, defaults, dialect.name === 'bigquery')
  const tables = [...st.sources, ...st.targets, '?'].sort((a, b) => b.length - a.length)
  const t = (n: string): string => r.table(n)
  st.columns = st.columns.map((c): ColumnLineage => ({
    ...c,
    target: r.column(c.target, tables),
    sources: c.sources.map((s) => r.column(s, tables)),
  }))
  st.sources = [...new Set(st.sources.map(t))].sort()
  st.targets = [...new Set(st.targets.map(t))].sort()
  if (st.drops) st.drops = st.drops.map(t)
  if (st.renames) st.renames = st.renames.map((x) => ({from: t(x.from), to: t(x.to)}))
  const written = [...st.sources, ...st.targets].filter((n) => r.written.has(n)).sort()
  if (written.length > 0) st.written = Object.fromEntries(written.map((n) => [n, r.written.get(n) ?? n]))
}
