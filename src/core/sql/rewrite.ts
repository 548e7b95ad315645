/**
 * Rewrites applied before a grammar sees a statement: syntax that carries no lineage and that the
 * grammars reject is blanked out with spaces (so every offset, and so every reported position, stays
 * where it was). Each rewrite is general, not tied to particular statements:
 *
 * - Hive/Spark `LATERAL VIEW [OUTER] fn(...) alias [AS c1, c2]` (a generator over a column already read);
 * - Teradata column attributes `(TITLE '...')`, `(FORMAT '...')`, `(NAMED x)`;
 * - `WITH ORDINALITY` after UNNEST (adds a row-number column);
 * - `TRY_CAST(` and `SAFE_CAST(` read as `CAST(` (same lineage, fewer grammars know them);
 * - Postgres casts `x::type` read as `x` (some grammars take `x::type` for a column's name);
 * - brackets around a whole query (`(((SELECT ...)))`), which several grammars refuse;
 * - Spark's `WITH name (SELECT ...)`, a CTE without AS: the AS is inserted;
 * - Postgres `DELETE FROM t [a] USING s, u WHERE` as the multi-table form the grammars know,
 *   `DELETE a FROM t a, s, u WHERE` (these two add text; the caller maps offsets back).
 */
import {blank, type Edit} from './edits.js'
import type {Token} from './lexer.js'
import {isNamePart, readName, skipGroup} from './token-utils.js'

const ATTRIBUTES = new Set(['TITLE', 'FORMAT', 'NAMED', 'CASESPECIFIC', 'UPPERCASE'])

/** Blanking edits for `text` (tokens from the same text). */
export function grammarRewrites(text: string, tokens: readonly Token[]): Edit[] {
  const edits: Edit[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (!t) break
    if (t.up === 'LATERAL' && tokens[i + 1]?.up === 'VIEW') {
      const end = lateralViewEnd(tokens, i + 2)
      const last = tokens[end - 1]
      if (last) edits.push(blank(text, t.start, last.end))
      i = end - 1
    } else if ((t.up === 'TRY_CAST' || t.up === 'SAFE_CAST') && tokens[i + 1]?.up === '(') {
      edits.push(blank(text, t.start, t.end - 4))
    } else if (t.up === 'WITH' && tokens[i + 1]?.up === 'ORDINALITY') {
      const next = tokens[i + 1]
      if (next) edits.push(blank(text, t.start, next.end))
      i++
    } else if (t.up === '::' && isNamePart(tokens[i + 1])) {
      const end = castTypeEnd(tokens, i + 1)
      const last = tokens[end - 1]
      if (last) edits.push(blank(text, t.start, last.end))
      i = end - 1
    } else if (t.up === '(' && ATTRIBUTES.has(tokens[i + 1]?.up ?? '') && i > 0) {
      const close = skipGroup(tokens, i) - 1
      const last = tokens[close]
      if (last && close - i <= 4) edits.push(blank(text, t.start, last.end))
    }
  }
  edits.push(...outerBrackets(text, tokens), ...cteWithoutAs(tokens), ...deleteUsing(text, tokens))
  return edits
}

function deleteUsing(text: string, tokens: readonly Token[]): Edit[] {
  if (tokens[0]?.up !== 'DELETE' || tokens[1]?.up !== 'FROM') return []
  const name = readName(text, tokens, 2)
  if (!name) return []
  let i = name.next
  if (tokens[i]?.up === 'AS') i++
  const aliasTok = isNamePart(tokens[i]) && tokens[i]?.up !== 'USING' ? tokens[i] : undefined
  const using = tokens[aliasTok ? i + 1 : name.next]
  const from = tokens[1]
  if (using?.up !== 'USING') return []
  const target = aliasTok
    ? text.slice(aliasTok.start, aliasTok.end)
    : text.slice(tokens[2]?.start ?? 0, tokens[name.next - 1]?.end ?? 0)
  return [
    {start: from.start, end: from.start, replacement: `${target} `},
    {start: using.start, end: using.end, replacement: ','},
  ]
}

/** `WITH a (SELECT ...), b (SELECT ...)`: insert the AS each CTE lacks. */
function cteWithoutAs(tokens: readonly Token[]): Edit[] {
  const edits: Edit[] = []
  for (let i = 0; i < tokens.length; i++) {
    const up = tokens[i]?.up
    if (up !== 'WITH' && up !== ',') continue
    const name = tokens[i + 1]
    const open = tokens[i + 2]
    const first = tokens[i + 3]?.up
    if (
      isNamePart(name) &&
      open?.up === '(' &&
      (first === 'SELECT' || first === 'WITH') &&
      (up === 'WITH' || cteListBefore(tokens, i))
    ) {
      edits.push({start: open.start, end: open.start, replacement: 'AS '})
    }
  }
  return edits
}

/** Is the comma at i part of a CTE list (preceded by a CTE body's closing bracket)? */
function cteListBefore(tokens: readonly Token[], i: number): boolean {
  return tokens[i - 1]?.up === ')' && tokens.slice(0, i).some((t) => t.up === 'WITH')
}

/** The type of a Postgres `x::type` cast (`numeric(10, 2)`, `text[]`): index past it. */
function castTypeEnd(tokens: readonly Token[], i: number): number {
  let j = i + 1
  if (tokens[j]?.up === '(') j = skipGroup(tokens, j)
  while (tokens[j]?.up === '[' && tokens[j + 1]?.up === ']') j += 2
  return j
}

/** LATERAL VIEW [OUTER] fn(args) alias [AS] c1 [, c2 ...]: index past it. */
function lateralViewEnd(tokens: readonly Token[], i: number): number {
  let j = i
  if (tokens[j]?.up === 'OUTER') j++
  while (isNamePart(tokens[j]) && tokens[j + 1]?.up === '.') j += 2
  if (isNamePart(tokens[j]) && tokens[j + 1]?.up === '(') j = skipGroup(tokens, j + 1)
  if (isNamePart(tokens[j]) && tokens[j]?.up !== 'AS' && tokens[j]?.up !== 'LATERAL') j++
  if (tokens[j]?.up === 'AS') {
    j++
    while (isNamePart(tokens[j])) {
      j++
      if (tokens[j]?.up !== ',' || !isNamePart(tokens[j + 1]) || tokens[j + 2]?.up === '.') break
      j++
    }
  }
  return j
}

/** Blank brackets that enclose the whole text, however many layers. */
export function outerBrackets(text: string, tokens: readonly Token[]): Edit[] {
  const edits: Edit[] = []
  let first = 0
  let last = tokens.length - 1
  while (last > first && tokens[first]?.up === '(' && tokens[last]?.up === ')') {
    if (skipGroup(tokens, first) !== last + 1) break
    const open = tokens[first]
    const close = tokens[last]
    if (!open || !close) break
    edits.push(blank(text, open.start, open.end), blank(text, close.start, close.end))
    first++
    last--
  }
  return edits
}
