/**
 * The fast path: lineage of a query read straight from the lexer's tokens, for the shapes that dominate
 * warehouse SQL, without node-sql-parser (which took about two thirds of the extraction time). It takes
 * `[WITH name AS (query), ...] SELECT [DISTINCT] items FROM tables and joins [WHERE] [GROUP BY] [HAVING]
 * [UNION [ALL] SELECT ...] [ORDER BY] [LIMIT]` with derived tables, column references, literals, function
 * calls, CASE, CAST and the usual operators, and resolves names with the same scopes as the grammar path
 * (scope.ts), so its result is the one the mysql grammar and QueryAnalyzer give.
 *
 * It declines (returns undefined, and the grammars run as before) on anything else: subqueries in
 * expressions, window functions, quoted names, reserved words used as names, nesting that the grammar
 * path would flatten, any token whose reading it is not sure of. It is used only for dialects whose first
 * grammar is mysql, so that an accepted statement names the grammar that would have accepted it.
 * test/core/sql/fast-path.test.ts checks that every result it gives equals the grammar path's.
 */
import type {Token} from './lexer.js'
import {RESERVED} from './reserved.js'
import {mainSelectIndex, mainSelectItems} from './select-text.js'
import type {SchemaIndex} from './schema.js'
import {mergeSetOperation, resolveColumn, Scope, STAR, starColumns, type OutCol, type Relation} from './scope.js'

export interface FastQuery {
  tables: Set<string>
  columns: OutCol[]
}

/** How many queries the fast path took and left to the grammars in this thread (for benchmarks and tests). */
export const fastPathCounts = {taken: 0, declined: 0}

/** Expression nesting (brackets, CASE) the fast path takes; the grammar path flattens beyond 4. */
const MAX_DEPTH = 4

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const NUMBER = /^[0-9]+(\.[0-9]+)?$/
const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>='])
const CAST_TYPES = new Set([
  'BIGINT',
  'CHAR',
  'DATE',
  'DATETIME',
  'DECIMAL',
  'DOUBLE',
  'FLOAT',
  'INT',
  'INTEGER',
  'NUMERIC',
  'SIGNED',
  'TIME',
  'TIMESTAMP',
  'UNSIGNED',
  'VARCHAR',
])
const JOIN_START = new Set(['JOIN', 'INNER', 'LEFT', 'RIGHT', 'CROSS'])
const ONE_ARGUMENT = new Set(['AVG', 'SUM', 'MAX', 'MIN'])
const SPECIAL_CALLS = new Set(['GROUP_CONCAT', 'STD', 'VARIANCE'])

/** A column read by an expression: qualifier (or null) and name, lower case; `*` for `count(*)`. */
interface Ref {
  q: string | null
  c: string
}

type Item = {star: true; q: string | null} | {star: false; refs: Ref[]; alias: string | null; column: string | null}

class Decline extends Error {}
const DECLINE = new Decline('the fast path does not take this statement')

/** The lineage of the query in `tokens`, or undefined when the fast path does not take it. */
export function fastQuery(text: string, tokens: readonly Token[], schema: SchemaIndex): FastQuery | undefined {
  try {
    const reader = new Reader(text, tokens, schema)
    const columns = reader.top()
    fastPathCounts.taken++
    return {tables: reader.tables, columns}
  } catch (error) {
    if (error !== DECLINE) throw error
    fastPathCounts.declined++
    return undefined
  }
}

class Reader {
  readonly tables = new Set<string>()
  private i = 0
  private depth = 0

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
    private readonly schema: SchemaIndex,
  ) {}

  top(): OutCol[] {
    const cols = this.query(null, true)
    if (this.i !== this.tokens.length) throw DECLINE
    return cols
  }

  // ---- tokens

  private up(k = 0): string {
    return this.tokens[this.i + k]?.up ?? ''
  }

  /** Is the token at i + k a plain (unquoted) word with this upper-case text? */
  private isWord(up: string, k = 0): boolean {
    const t = this.tokens[this.i + k]
    return t?.kind === 'word' && t.up === up
  }

  private isPunct(p: string, k = 0): boolean {
    const t = this.tokens[this.i + k]
    return t?.kind === 'punct' && t.up === p
  }

  private expectWord(up: string): void {
    if (!this.isWord(up)) throw DECLINE
    this.i++
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw DECLINE
    this.i++
  }

  /** A name the mysql grammar reads as a name: unquoted, ASCII, not reserved. */
  private isName(k = 0): boolean {
    const t = this.tokens[this.i + k]
    return t?.kind === 'word' && !RESERVED.has(t.up) && IDENT.test(t.up)
  }

  private name(): string {
    const t = this.tokens[this.i]
    if (!t || !this.isName()) throw DECLINE
    this.i++
    return this.text.slice(t.start, t.end).toLowerCase()
  }

  private open(): void {
    this.expectPunct('(')
    if (++this.depth > MAX_DEPTH) throw DECLINE
  }

  private close(): void {
    this.expectPunct(')')
    this.depth--
  }

  // ---- queries

  /** `[WITH ...] select [UNION [ALL] select ...] [ORDER BY ...] [LIMIT ...]`. */
  private query(outer: Scope | null, main = false): OutCol[] {
    const scope = new Scope(outer)
    if (this.isWord('WITH')) this.withClause(scope)
    let cols = this.select(scope, main)
    while (this.isWord('UNION')) {
      this.i++
      if (this.isWord('ALL') || this.isWord('DISTINCT')) this.i++
      cols = mergeSetOperation(cols, this.select(new Scope(scope), false))
    }
    if (this.isWord('ORDER')) {
      this.i++
      this.expectWord('BY')
      do {
        this.notExpr([])
        if (this.isWord('ASC') || this.isWord('DESC')) this.i++
      } while (this.comma())
    }
    if (this.isWord('LIMIT')) {
      this.i++
      this.number()
      if (this.isPunct(',')) {
        this.i++
        this.number()
      }
    }
    return cols
  }

  private withClause(scope: Scope): void {
    this.i++
    do {
      const name = this.name()
      this.expectWord('AS')
      this.open()
      scope.ctes.set(name, []) // as the grammar path: a reference to itself reads nothing
      const cols = this.query(scope)
      this.close()
      scope.ctes.set(name, cols)
    } while (this.comma())
  }

  private select(cteScope: Scope, main: boolean): OutCol[] {
    const at = this.i
    this.expectWord('SELECT')
    if (this.isWord('DISTINCT')) this.i++
    const items = this.selectList()
    const scope = new Scope(cteScope)
    if (this.isWord('FROM')) {
      this.i++
      scope.rels = this.fromClause(scope)
    }
    if (this.isWord('WHERE')) {
      this.i++
      this.expr()
    }
    if (this.isWord('GROUP')) {
      this.i++
      this.expectWord('BY')
      do this.notExpr([])
      while (this.comma())
    }
    if (this.isWord('HAVING')) {
      this.i++
      this.expr()
    }
    const texts = main && items.some((it) => !it.star && !it.alias && !it.column) ? this.texts(at) : undefined
    return this.resolve(items, scope, texts)
  }

  /** Un-aliased expressions are named by their text, as the grammar path names them. */
  private texts(at: number): string[] {
    // The main select the text reader finds must be the one being read.
    if (mainSelectIndex(this.tokens) !== at) throw DECLINE
    return mainSelectItems(this.text, this.tokens)
  }

  private resolve(items: readonly Item[], scope: Scope, texts: readonly string[] | undefined): OutCol[] {
    const out: OutCol[] = []
    const aliases = new Map<string, Set<string>>()
    scope.aliases = aliases
    items.forEach((item, n) => {
      if (item.star) {
        out.push(...starColumns(item.q, scope))
        return
      }
      const sources = new Set<string>()
      for (const ref of item.refs) for (const s of resolveColumn(scope, ref.q, ref.c)) sources.add(s)
      out.push({name: item.alias ?? item.column ?? texts?.[n] ?? `_col${n}`, sources})
      if (item.alias) aliases.set(item.alias, sources)
    })
    scope.aliases = null
    return out
  }

  private selectList(): Item[] {
    const items: Item[] = []
    do {
      if (this.isPunct('*')) {
        this.i++
        items.push({star: true, q: null})
        continue
      }
      if (this.isName() && this.isPunct('.', 1) && this.isPunct('*', 2)) {
        const q = this.name()
        this.i += 2
        items.push({star: true, q})
        continue
      }
      // A whole item in brackets is read differently by the grammar (`(a)` is the column a).
      if (this.isPunct('(')) throw DECLINE
      const from = this.i
      const refs = this.expr()
      const span = this.i - from
      const single = refs.length === 1 && (span === 1 || (span === 3 && this.tokens[from + 1]?.up === '.'))
      const column = single ? (refs[0]?.c ?? null) : null
      let alias: string | null = null
      if (this.isWord('AS')) {
        this.i++
        alias = this.name()
      } else if (this.isName()) alias = this.name()
      items.push({star: false, refs, alias, column})
    } while (this.comma())
    return items
  }

  private fromClause(scope: Scope): Relation[] {
    const rels = [this.fromItem(scope)]
    for (;;) {
      if (this.comma()) {
        rels.push(this.fromItem(scope))
        continue
      }
      if (!JOIN_START.has(this.up()) || this.tokens[this.i]?.kind !== 'word') break
      const kind = this.up()
      this.i++
      if ((kind === 'LEFT' || kind === 'RIGHT') && this.isWord('OUTER')) this.i++
      if (kind !== 'JOIN') this.expectWord('JOIN')
      rels.push(this.fromItem(scope))
      if (kind === 'CROSS') continue
      if (this.isWord('ON')) {
        this.i++
        this.expr()
      } else if (this.isWord('USING')) {
        this.i++
        this.open()
        do this.name()
        while (this.comma())
        this.close()
      }
    }
    return rels
  }

  private fromItem(scope: Scope): Relation {
    if (this.isPunct('(')) {
      if (!this.isWord('SELECT', 1)) throw DECLINE
      this.open()
      const columns = this.query(scope)
      this.close()
      if (this.isWord('AS')) this.i++
      return {alias: this.name(), table: null, columns, opaque: false}
    }
    let name = this.name()
    if (this.isPunct('.')) {
      this.i++
      name = `${name}.${this.name()}`
    }
    if (this.isPunct('.') || this.isPunct('(')) throw DECLINE
    let alias: string | null = null
    if (this.isWord('AS')) {
      this.i++
      alias = this.name()
    } else if (this.isName()) alias = this.name()
    const cte = name.includes('.') ? undefined : scope.cte(name)
    if (cte) return {alias: alias ?? name, table: null, columns: cte, opaque: false}
    this.tables.add(name)
    const known = this.schema.columnsOf(name)
    const columns = known ? known.map((c) => ({name: c, sources: new Set([`${name}.${c}`])})) : null
    return {alias, table: name, columns, opaque: false}
  }

  // ---- expressions: only their column references matter, and that they are read as the grammar reads them

  private comma(): boolean {
    if (!this.isPunct(',')) return false
    this.i++
    return true
  }

  private number(): void {
    const t = this.tokens[this.i]
    if (t?.kind !== 'number' || !NUMBER.test(t.up)) throw DECLINE
    this.i++
  }

  /**
   * An expression; returns the columns it reads. The levels follow the mysql grammar's, which rejects
   * some mixes that other SQL takes (`x = NOT y`, `a IS NULL = b`, `CASE WHEN c THEN a OR b END`): such
   * text must be declined here, or the two paths would differ on it.
   */
  private expr(refs: Ref[] = []): Ref[] {
    this.notExpr(refs)
    while (this.isWord('AND') || this.isWord('OR')) {
      this.i++
      this.notExpr(refs)
    }
    return refs
  }

  private notExpr(refs: Ref[]): void {
    if (this.isWord('NOT')) {
      this.i++
      this.notExpr(refs)
    } else this.comparison(refs)
  }

  /** `a [= b ...]`, `a IS [NOT] NULL`, `a [NOT] IN (...)`, `a [NOT] BETWEEN b AND c`, `a [NOT] LIKE b`. */
  private comparison(refs: Ref[]): void {
    this.additive(refs)
    if (COMPARISONS.has(this.punct())) {
      while (COMPARISONS.has(this.punct())) {
        this.i++
        this.additive(refs)
      }
      return
    }
    if (this.isWord('IS')) {
      this.i++
      if (this.isWord('NOT')) this.i++
      this.expectWord('NULL')
      return
    }
    if (this.isWord('NOT') && (this.isWord('IN', 1) || this.isWord('BETWEEN', 1) || this.isWord('LIKE', 1))) this.i++
    if (this.isWord('IN')) {
      this.i++
      if (this.isWord('SELECT', 1) || this.isWord('WITH', 1)) throw DECLINE
      this.open()
      do this.notExpr(refs)
      while (this.comma())
      this.close()
    } else if (this.isWord('BETWEEN')) {
      this.i++
      this.additive(refs)
      this.expectWord('AND')
      this.additive(refs)
    } else if (this.isWord('LIKE')) {
      this.i++
      this.unary(refs)
    }
  }

  private additive(refs: Ref[]): void {
    this.multiplicative(refs)
    // The mysql grammar reads `||` at this level (`a IS NULL || b` is no expression to it).
    while (this.isPunct('+') || this.isPunct('-') || this.isPunct('||')) {
      this.i++
      this.multiplicative(refs)
    }
  }

  private multiplicative(refs: Ref[]): void {
    this.unary(refs)
    while (this.isPunct('*') || this.isPunct('/') || this.isPunct('%')) {
      this.i++
      this.unary(refs)
    }
  }

  private unary(refs: Ref[]): void {
    if (this.isPunct('-') || this.isPunct('+')) {
      this.i++
      this.unary(refs)
    } else this.primary(refs)
  }

  private punct(): string {
    const t = this.tokens[this.i]
    return t?.kind === 'punct' ? t.up : ''
  }

  private primary(refs: Ref[]): void {
    const t = this.tokens[this.i]
    if (!t) throw DECLINE
    if (t.kind === 'word') this.wordOperand(t, refs)
    else if (t.kind === 'number') this.number()
    else if (t.kind === 'string') {
      // A plain '...' string; the mysql grammar reads backslash escapes that the lexer may not.
      if (!/^'[^\\]*'$/.test(this.text.slice(t.start, t.end))) throw DECLINE
      this.i++
    } else if (t.kind === 'punct' && t.up === '(') {
      if (this.isWord('SELECT', 1) || this.isWord('WITH', 1)) throw DECLINE
      this.open()
      this.expr(refs)
      this.close()
    } else throw DECLINE
  }

  private wordOperand(t: Token, refs: Ref[]): void {
    if (t.up === 'NULL' || t.up === 'TRUE' || t.up === 'FALSE') {
      this.i++
      return
    }
    if (t.up === 'CASE') {
      this.caseExpr(refs)
      return
    }
    if (t.up === 'CAST') {
      this.cast(refs)
      return
    }
    if (this.isPunct('(', 1)) {
      this.call(refs)
      return
    }
    const first = this.name()
    if (!this.isPunct('.')) {
      refs.push({q: null, c: first})
      return
    }
    this.i++
    // After `t.` the grammar takes any word for the column, reserved ones included (`t.key`, `t.date`).
    const part = this.tokens[this.i]
    if (part?.kind !== 'word' || !IDENT.test(part.up)) throw DECLINE
    this.i++
    if (this.isPunct('.') || this.isPunct('(')) throw DECLINE
    refs.push({q: first, c: this.text.slice(part.start, part.end).toLowerCase()})
  }

  /**
   * `name(args)`. The mysql grammar has rules of its own for some names: AVG, SUM, MAX, MIN take exactly
   * one argument, COUNT one or more (or `*`, or DISTINCT ...), and a few others (GROUP_CONCAT, STD,
   * VARIANCE) have syntax that is not modelled here.
   */
  private call(refs: Ref[]): void {
    const fn = this.tokens[this.i]?.up ?? ''
    if (SPECIAL_CALLS.has(fn)) throw DECLINE
    this.name()
    this.open()
    if (fn === 'COUNT' && this.isPunct('*') && this.isPunct(')', 1)) {
      // The grammar reads count(*) as a star, which resolves to the columns of every relation.
      this.i++
      refs.push({q: null, c: STAR})
    } else if (ONE_ARGUMENT.has(fn)) this.expr(refs)
    else if (fn === 'COUNT' || !this.isPunct(')')) {
      if (fn === 'COUNT' && this.isWord('DISTINCT')) this.i++
      do this.expr(refs)
      while (this.comma())
    }
    this.close()
  }

  /** CASE [operand] WHEN ... THEN ... [ELSE ...] END, each part at the level the grammar allows it. */
  private caseExpr(refs: Ref[]): void {
    this.i++
    if (++this.depth > MAX_DEPTH) throw DECLINE
    if (this.isPunct('(')) throw DECLINE // `CASE (x) WHEN`: the grammar rejects it
    if (!this.isWord('WHEN')) this.comparison(refs)
    if (!this.isWord('WHEN')) throw DECLINE
    while (this.isWord('WHEN')) {
      this.i++
      this.expr(refs)
      this.expectWord('THEN')
      this.notExpr(refs)
    }
    if (this.isWord('ELSE')) {
      this.i++
      this.notExpr(refs)
    }
    this.expectWord('END')
    this.depth--
  }

  private cast(refs: Ref[]): void {
    this.i++
    this.open()
    this.notExpr(refs)
    this.expectWord('AS')
    const type = this.tokens[this.i]
    if (type?.kind !== 'word' || !CAST_TYPES.has(type.up)) throw DECLINE
    this.i++
    if (this.isPunct('(')) {
      this.open()
      this.number()
      if (this.comma()) this.number()
      this.close()
    }
    this.close()
  }
}
