/**
 * Template placeholders: `${var}` (also Hive's `${hiveconf:var}`), `{{ var }}` (with dbt's `ref('m')`,
 * `source('s', 't')`, `var('v')` and `config(...)`) and `:var` bind variables are substituted from the
 * caller's variables. `{% tags %}` and `{# comments #}` are removed with a warning, since no template
 * engine runs here.
 *
 * A placeholder with no value is replaced by a marker identifier (`__lineage_unrendered_N__`) so the
 * statement still parses; the extractor reports every marker and drops any table or column whose name
 * contains one, so an unrendered placeholder never becomes a table name.
 *
 * `:var` is only a placeholder in code (never inside strings or comments, so time literals such as
 * '10:30' are safe), never after another `:` (Postgres `::type` casts), never after an identifier or a
 * closing bracket (Snowflake `col:field`, slices `a[1:2]`) and never before `=` (`:=` assignments).
 */
import {applyEdits, OffsetMap, type Edit} from './edits.js'
import {tokenize, type LexOptions} from './lexer.js'

export const UNRENDERED_MARKER = '__lineage_unrendered_'

export interface Placeholder {
  /** The variable name as written, e.g. `run_date`. */
  name: string
  /** Offsets of the whole placeholder in the original text. */
  start: number
  end: number
  rendered: boolean
}

export interface Rendered {
  text: string
  map: OffsetMap
  placeholders: Placeholder[]
  /** Template syntax that was removed rather than rendered. */
  notes: {start: number; message: string}[]
}

interface Found {
  start: number
  end: number
  name: string
  value: string | undefined
  /** Template syntax removed rather than rendered; the message (if any) becomes a note. */
  removed?: string
}

const DOLLAR = /\$\{\s*([A-Za-z_][\w.:-]*)\s*\}/g
const JINJA = /\{\{-?\s*([\s\S]*?)\s*-?\}\}|\{%-?[\s\S]*?-?%\}|\{#[\s\S]*?#\}/g

/** Substitute placeholders; linear in the text length. */
export function renderTemplate(text: string, vars: Readonly<Record<string, string>>, lex: LexOptions): Rendered {
  if (!text.includes('${') && !text.includes('{{') && !text.includes('{%') && !text.includes('{#')) {
    if (!text.includes(':')) return {text, map: OffsetMap.identity, placeholders: [], notes: []}
  }
  const found = [...findDollar(text, vars), ...findJinja(text, vars), ...findColon(text, vars, lex)]
  found.sort((a, b) => a.start - b.start)
  return apply(text, found)
}

function apply(text: string, found: Found[]): Rendered {
  const edits: Edit[] = []
  const placeholders: Placeholder[] = []
  const notes: Rendered['notes'] = []
  let pos = 0
  for (const f of found) {
    if (f.start < pos) continue // overlapping match (e.g. `:x` inside `{{ }}`)
    pos = f.end
    if (f.removed !== undefined) {
      if (f.removed) notes.push({start: f.start, message: f.removed})
      edits.push({start: f.start, end: f.end, replacement: ''})
      continue
    }
    const replacement = f.value ?? `${UNRENDERED_MARKER}${placeholders.length}__`
    placeholders.push({name: f.name, start: f.start, end: f.end, rendered: f.value !== undefined})
    edits.push({start: f.start, end: f.end, replacement})
  }
  const {text: out, map} = applyEdits(text, edits)
  return {text: out, map, placeholders, notes}
}

function lookup(vars: Readonly<Record<string, string>>, name: string): string | undefined {
  if (Object.hasOwn(vars, name)) return vars[name]
  // Hive's `${hiveconf:dt}` / `${env:X}` and Airflow's `{{ params.dt }}` fall back to the last part.
  const short = name.split(/[:.]/).pop() ?? name
  return Object.hasOwn(vars, short) ? vars[short] : undefined
}

function findDollar(text: string, vars: Readonly<Record<string, string>>): Found[] {
  if (!text.includes('${')) return []
  return [...text.matchAll(DOLLAR)].map((m) => {
    const name = m[1] ?? ''
    return {start: m.index, end: m.index + m[0].length, name, value: lookup(vars, name)}
  })
}

function findJinja(text: string, vars: Readonly<Record<string, string>>): Found[] {
  if (!text.includes('{{') && !text.includes('{%') && !text.includes('{#')) return []
  const out: Found[] = []
  for (const m of text.matchAll(JINJA)) {
    const start = m.index
    const end = start + m[0].length
    if (m[0].startsWith('{#')) out.push({start, end, name: '', value: '', removed: ''})
    else if (m[0].startsWith('{%')) {
      const tag = m[0].replace(/\s+/g, ' ').slice(0, 40)
      out.push({start, end, name: '', value: '', removed: `template tag ${tag} removed (no template engine runs here)`})
    } else out.push({start, end, ...jinjaExpression(m[1] ?? '', vars)})
  }
  return out
}

const QUOTED_ARGS = /^(\w+)\s*\(\s*((?:'[^']*'|"[^"]*")(?:\s*,\s*(?:'[^']*'|"[^"]*"))*)?[^)]*\)$/

/** `var`, `ref('m')`, `source('s','t')`, `var('v', 'default')`, `config(...)`. */
function jinjaExpression(
  expr: string,
  vars: Readonly<Record<string, string>>,
): {name: string; value: string | undefined} {
  const call = QUOTED_ARGS.exec(expr)
  if (!call) return {name: expr, value: lookup(vars, expr)}
  const fn = call[1] ?? ''
  const args = [...(call[2] ?? '').matchAll(/'([^']*)'|"([^"]*)"/g)].map((a) => a[1] ?? a[2] ?? '')
  if (fn === 'ref' && args.length > 0) return {name: expr, value: args[args.length - 1]}
  if (fn === 'source' && args.length === 2) return {name: expr, value: args.join('.')}
  if (fn === 'config') return {name: expr, value: ''}
  if (fn === 'var' && args[0] !== undefined) return {name: args[0], value: lookup(vars, args[0]) ?? args[1]}
  return {name: expr, value: lookup(vars, expr)}
}

function findColon(text: string, vars: Readonly<Record<string, string>>, lex: LexOptions): Found[] {
  if (!text.includes(':')) return []
  const tokens = tokenize(text, lex)
  const out: Found[] = []
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]
    const next = tokens[i + 1]
    if (t?.up !== ':' || next?.kind !== 'word' || next.start !== t.end) continue
    const prev = tokens[i - 1]
    const glued = prev?.end === t.start
    if (glued && (prev.kind === 'word' || prev.kind === 'qident' || prev.up === ']' || prev.up === ')')) continue
    if (glued && prev.up === ':') continue
    const name = text.slice(next.start, next.end)
    if (name.startsWith('@') || name.startsWith('#')) continue
    out.push({start: t.start, end: next.end, name, value: lookup(vars, name)})
  }
  return out
}
