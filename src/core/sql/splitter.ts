/**
 * Splits a file into statements, on the tokens of `lexer.ts` (so a `;` inside a string, a quoted name, a
 * comment or a dollar-quoted body never splits). Separators: `;`, T-SQL `GO` on its own line, Oracle `/`
 * on its own line, and MySQL `DELIMITER xx` blocks.
 *
 * Procedural bodies stay whole: a `CREATE PROCEDURE/FUNCTION/TRIGGER/PACKAGE` or an anonymous `BEGIN ...
 * END` block ends at the `END` that closes its first `BEGIN` (counting nested `BEGIN` and `CASE`), and a
 * PL/SQL declaration section (`AS v NUMBER := 0; BEGIN`) does not end it early. A T-SQL routine without
 * `BEGIN` runs to the end of its batch (`GO`), as SQL Server defines it.
 *
 * Never throws; linear in the number of tokens.
 */
import type {DialectInfo} from './dialects.js'
import type {Token} from './lexer.js'

export interface StatementSpan {
  /** Offsets of the first and past the last token of the statement (separator excluded). */
  start: number
  end: number
  tokens: Token[]
}

type Family = DialectInfo['family']

const ROUTINES = new Set(['PROCEDURE', 'PROC', 'FUNCTION', 'TRIGGER', 'PACKAGE', 'TYPE'])
const ROUTINE_STOP = new Set(['TABLE', 'VIEW', 'INDEX', 'AS', 'SCHEMA', 'DATABASE', 'SEQUENCE', '(', ';'])
const NOT_A_BLOCK = new Set(['TRAN', 'TRANSACTION', 'WORK', 'DISTRIBUTED', 'ISOLATION', 'DEFERRED', 'IMMEDIATE'])
const END_OF_OTHER = new Set(['IF', 'LOOP', 'WHILE', 'REPEAT', 'FOR'])

type Mode = 'plain' | 'routine' | 'anon'

interface State {
  mode: Mode
  depth: number
  block: number
  sawBegin: boolean
  declare: boolean
}

/** Split a token stream into statements. */
export function splitStatements(text: string, tokens: readonly Token[], family: Family): StatementSpan[] {
  const out: StatementSpan[] = []
  let first = 0
  let st = freshState('plain')
  let delimiter = ';'
  const emit = (endExclusive: number, endOffset?: number): void => {
    if (endExclusive > first) {
      const toks = tokens.slice(first, endExclusive)
      const a = toks[0]
      const b = toks[toks.length - 1]
      if (a && b) out.push({start: a.start, end: endOffset ?? b.end, tokens: toks})
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (!t) break
    if (i === first) {
      if (family === 'mysql' && t.up === 'DELIMITER' && t.nl) {
        const line = delimiterLine(text, tokens, i)
        delimiter = line.delimiter
        i = line.next - 1
        first = line.next
        continue
      }
      st = freshState(blockMode(tokens, i, family))
    }
    if (delimiter !== ';' && t.kind === 'word' && t.end - t.start > delimiter.length) {
      // `END$$`: a custom delimiter glued to a word (the tokenizer reads `$` as part of names).
      if (text.slice(t.start, t.end).endsWith(delimiter)) {
        emit(i + 1, t.end - delimiter.length)
        first = i + 1
        continue
      }
    }
    const sep = separatorAt(text, tokens, i, family, delimiter)
    if (sep > 0 && (delimiter !== ';' || endsHere(st, t, family))) {
      emit(i)
      i += sep - 1
      first = i + 1
      continue
    }
    if (delimiter === ';' && track(st, tokens, i) === 'closed') {
      let after = closeTail(tokens, i)
      emit(after)
      if (tokens[after]?.up === ';') after++
      first = after
      i = after - 1
    }
  }
  emit(tokens.length)
  return out
}

function freshState(mode: Mode): State {
  return {mode, depth: 0, block: 0, sawBegin: false, declare: false}
}

function enterBegin(st: State): void {
  st.block++
  st.sawBegin = true
}

/** Is `;` (or GO, `/`) at token t allowed to end the current statement? */
function endsHere(st: State, t: Token, family: Family): boolean {
  if (t.up !== ';') return true // GO and `/` always end a batch
  // Outside procedural bodies a `;` always ends the statement, even after an unbalanced bracket, so
  // one broken statement cannot swallow the rest of the file.
  if (st.mode === 'plain') return true
  if (st.depth > 0 || st.block > 0) return false
  if (st.sawBegin) return true
  // Before the body: PL/SQL declarations end in `;`; a T-SQL routine body runs to GO.
  return !(family === 'oracle' || family === 'tsql' || st.declare)
}

/** Update depth counters for token i; 'closed' when it is the END that closes the routine body. */
function track(st: State, tokens: readonly Token[], i: number): 'closed' | 'open' {
  const t = tokens[i]
  if (!t) return 'open'
  if (t.up === '(') st.depth++
  else if (t.up === ')') st.depth = Math.max(0, st.depth - 1)
  if (st.mode === 'plain' || t.kind !== 'word') return 'open'
  const next = tokens[i + 1]
  if (t.up === 'DECLARE' && !st.sawBegin) st.declare = true
  if (t.up === 'BEGIN' && !NOT_A_BLOCK.has(next?.up ?? '') && next?.up !== ';') enterBegin(st)
  else if (t.up === 'CASE' && st.block > 0) st.block++
  else if (t.up === 'END' && st.block > 0 && !END_OF_OTHER.has(next?.up ?? '')) {
    st.block--
    if (st.block === 0 && st.sawBegin) return 'closed'
  }
  return 'open'
}

/** The index past `END [name]` that closed a body (the name is kept with the statement). */
function closeTail(tokens: readonly Token[], endIndex: number): number {
  const next = tokens[endIndex + 1]
  const after = tokens[endIndex + 2]
  if (next?.kind === 'word' && !next.nl && (after === undefined || after.up === ';' || after.nl)) return endIndex + 2
  return endIndex + 1
}

/** How a statement starting at token i must be delimited. */
function blockMode(tokens: readonly Token[], i: number, family: Family): Mode {
  const t = tokens[i]
  if (!t) return 'plain'
  if (t.up === 'BEGIN') {
    const next = tokens[i + 1]
    return next && next.up !== ';' && !NOT_A_BLOCK.has(next.up) ? 'anon' : 'plain'
  }
  if (t.up === 'DECLARE') return family === 'oracle' ? 'anon' : 'plain'
  if (t.up !== 'CREATE' && t.up !== 'ALTER') return 'plain'
  for (let j = i + 1; j < Math.min(tokens.length, i + 12); j++) {
    const w = tokens[j]?.up ?? ''
    if (ROUTINES.has(w)) return 'routine'
    if (ROUTINE_STOP.has(w)) return 'plain'
  }
  return 'plain'
}

/** Number of tokens the separator at i spans (0 when there is none). */
function separatorAt(text: string, tokens: readonly Token[], i: number, family: Family, delimiter: string): number {
  const t = tokens[i]
  if (!t) return 0
  if (delimiter !== ';') return delimiterTokens(text, tokens, i, delimiter)
  if (t.up === ';') return 1
  const next = tokens[i + 1]
  if (family === 'tsql' && t.up === 'GO' && t.nl) {
    if (next === undefined || next.nl) return 1
    const after = tokens[i + 2]
    if (next.kind === 'number' && (after === undefined || after.nl)) return 2
  }
  if (family === 'oracle' && t.up === '/' && t.nl && (next === undefined || next.nl)) return 1
  return 0
}

/** A custom MySQL delimiter such as `$$` or `//` may span several tokens. */
function delimiterTokens(text: string, tokens: readonly Token[], i: number, delimiter: string): number {
  const t = tokens[i]
  if (!t || !text.startsWith(delimiter, t.start)) return 0
  const end = t.start + delimiter.length
  let j = i
  while (j < tokens.length && (tokens[j]?.end ?? Infinity) <= end) j++
  return Math.max(1, j - i)
}

/** `DELIMITER $$`: the new delimiter and the index of the first token after that line. */
function delimiterLine(text: string, tokens: readonly Token[], i: number): {delimiter: string; next: number} {
  const t = tokens[i]
  const lineEnd = text.indexOf('\n', t?.end ?? 0)
  const stop = lineEnd < 0 ? text.length : lineEnd
  const delimiter = text.slice(t?.end ?? 0, stop).trim() || ';'
  let j = i + 1
  while (j < tokens.length && (tokens[j]?.start ?? Infinity) < stop) j++
  return {delimiter, next: j}
}
