/**
 * A deterministic generator of realistic warehouse SQL, for benchmarks (bench:parse and the pipeline's
 * own bench) and for tests of the extractor at scale. Same options, same files, byte for byte, on every
 * machine: it uses its own seeded PRNG (mulberry32) and nothing else that varies.
 *
 * Each file is an ETL job over a fixed universe of tables (raw, staging, core, mart schemas, 10 to 60
 * columns each): INSERT ... SELECT joining 3 to 8 tables, CTEs (several levels), CREATE TABLE AS,
 * CREATE VIEW, MERGE with a USING subquery, UPDATE, DELETE, temporary tables that are created, read and
 * dropped, and statements without lineage (SET, USE, GRANT, ANALYZE, TRUNCATE), with comments and
 * strings containing `;`. About one file in 60 is a long script of 2,000+ lines. All of it is ANSI-style
 * SQL that `--dialect ansi` reads.
 *
 * Stability: the output for a given {files, seed} must not change, since benchmark results are compared
 * across commits; add new statement shapes behind a new option rather than changing existing ones.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

export interface CorpusOptions {
  files: number
  seed: number
}

export interface CorpusFile {
  /** Relative path, e.g. `jobs/017/load_mart_orders_017.sql`. */
  relPath: string
  sql: string
  /** Number of statements written. */
  statements: number
  /** Tables the file's statements write (before temporary tables collapse). */
  writes: string[]
}

interface Table {
  name: string
  columns: string[]
}

type Rng = () => number

/** mulberry32: small, fast, good enough for test data, identical on every platform. */
export function seededRandom(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ENTITIES = [
  'customer',
  'order',
  'product',
  'account',
  'invoice',
  'payment',
  'shipment',
  'supplier',
  'store',
  'region',
  'employee',
  'contract',
  'ledger',
  'trade',
  'position',
  'instrument',
  'portfolio',
  'branch',
  'loan',
  'card',
]
const ATTRS = [
  'id',
  'key',
  'code',
  'name',
  'status',
  'type',
  'amount',
  'balance',
  'qty',
  'price',
  'rate',
  'date',
  'ts',
  'flag',
  'count',
  'score',
  'currency',
  'country',
  'channel',
  'segment',
  'category',
  'fee',
  'tax',
  'discount',
  'limit',
  'term',
  'version',
  'source',
  'created_at',
  'updated_at',
]
const SCHEMAS = ['raw', 'staging', 'core', 'mart']

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1))

/** The fixed table universe a seed produces. */
function universe(rng: Rng): Table[] {
  const tables: Table[] = []
  for (let i = 0; i < 160; i++) {
    const schema = SCHEMAS[i % SCHEMAS.length] ?? 'raw'
    const entity = pick(rng, ENTITIES)
    const cols = new Set<string>([`${entity}_id`])
    const want = int(rng, 10, 60)
    while (cols.size < want) cols.add(`${pick(rng, ENTITIES)}_${pick(rng, ATTRS)}`)
    tables.push({
      name: `${schema}.${entity}_${pick(rng, ['daily', 'hist', 'snapshot', 'detail', 'agg', 'dim', 'fact'])}_${i}`,
      columns: [...cols],
    })
  }
  return tables
}

/** Generate the corpus in memory. */
export function generateCorpus(opts: CorpusOptions): CorpusFile[] {
  const rng = seededRandom(opts.seed)
  const tables = universe(rng)
  const files: CorpusFile[] = []
  for (let f = 0; f < opts.files; f++) {
    const big = f % 60 === 7
    const job = new Job(rng, tables, f)
    const count = big ? int(rng, 110, 160) : int(rng, 3, 12)
    for (let s = 0; s < count; s++) job.statement()
    const n = String(f).padStart(4, '0')
    files.push({
      relPath: `jobs/${n.slice(0, 2)}/${big ? 'nightly_batch' : 'load'}_${job.subject}_${n}.sql`,
      sql: job.text(),
      statements: job.count,
      writes: [...job.writes].sort(),
    })
  }
  return files
}

/** Write the corpus under `dir`; returns the files written. */
export function writeCorpus(dir: string, opts: CorpusOptions): CorpusFile[] {
  const files = generateCorpus(opts)
  for (const file of files) {
    const path = join(dir, file.relPath)
    mkdirSync(dirname(path), {recursive: true})
    writeFileSync(path, file.sql)
  }
  return files
}

/** One file: a sequence of statements over the table universe. */
class Job {
  readonly writes = new Set<string>()
  readonly subject: string
  count = 0
  private readonly parts: string[] = []
  private tmp = 0

  constructor(
    private readonly rng: Rng,
    private readonly tables: readonly Table[],
    private readonly index: number,
  ) {
    this.subject = pick(rng, ENTITIES)
    this.parts.push(`-- job ${index}: load ${this.subject} data; generated for benchmarks\n`)
  }

  text(): string {
    return this.parts.join('\n')
  }

  statement(): void {
    const r = this.rng()
    if (r < 0.08) this.add(pick(this.rng, NO_LINEAGE).replace('{t}', this.table().name))
    else if (r < 0.33) this.insertSelect()
    else if (r < 0.48) this.cteInsert()
    else if (r < 0.58) this.tempTable()
    else if (r < 0.66) this.view()
    else if (r < 0.78) this.merge()
    else if (r < 0.86) this.update()
    else if (r < 0.91)
      this.add(`DELETE FROM ${this.write(this.table())} WHERE load_date < '2024-01-01' /* keep; two years */`)
    else this.createTable()
  }

  private add(sql: string): void {
    this.parts.push(`${sql};\n`)
    this.count++
  }

  private table(): Table {
    return pick(this.rng, this.tables)
  }

  private write(t: Table): string {
    this.writes.add(t.name)
    return t.name
  }

  /** A SELECT joining 3 to 8 tables, selecting `width` expressions. */
  private select(width: number, from?: {name: string; columns: string[]}): {sql: string; names: string[]} {
    const joined = from ? [from, ...this.pickTables(int(this.rng, 2, 4))] : this.pickTables(int(this.rng, 3, 8))
    const aliases = joined.map((_, i) => `t${i}`)
    const names: string[] = []
    const exprs: string[] = []
    for (let i = 0; i < width; i++) {
      const k = int(this.rng, 0, joined.length - 1)
      const col = `${aliases[k] ?? 't0'}.${pick(this.rng, joined[k]?.columns ?? ['id'])}`
      const name = `c${i}_${pick(this.rng, ATTRS)}`
      names.push(name)
      exprs.push(`${this.expression(col, aliases)} AS ${name}`)
    }
    const joins = joined.slice(1).map((t, i) => {
      const kind = pick(this.rng, ['JOIN', 'LEFT JOIN', 'INNER JOIN', 'LEFT OUTER JOIN'])
      return `${kind} ${t.name} ${aliases[i + 1] ?? ''}\n    ON ${aliases[i + 1] ?? ''}.${t.columns[0] ?? 'id'} = t0.${joined[0]?.columns[0] ?? 'id'}`
    })
    const where = `WHERE t0.${joined[0]?.columns[0] ?? 'id'} IS NOT NULL -- incremental; see runbook\n  AND t0.load_date >= '2024-06-01'`
    const group =
      this.rng() < 0.3
        ? `\nGROUP BY ${names
            .slice(0, 3)
            .map((_, i) => i + 1)
            .join(', ')}`
        : ''
    const sql = `SELECT\n    ${exprs.join(',\n    ')}\nFROM ${joined[0]?.name ?? 'raw.x'} t0\n${joins.join('\n')}\n${where}${group}`
    return {sql, names}
  }

  private expression(col: string, aliases: string[]): string {
    const other = `${pick(this.rng, aliases)}.${pick(this.rng, ATTRS)}`
    switch (int(this.rng, 0, 7)) {
      case 0:
        return `coalesce(${col}, ${other}, 0)`
      case 1:
        return `CASE WHEN ${col} > 0 THEN ${col} ELSE ${other} END`
      case 2:
        return `cast(${col} AS decimal(18, 2))`
      case 3:
        return `upper(trim(${col}))`
      case 4:
        return `${col} * 100 / nullif(${other}, 0)`
      default:
        return col
    }
  }

  private pickTables(n: number): Table[] {
    return Array.from({length: n}, () => this.table())
  }

  private insertSelect(): void {
    const target = this.table()
    const width = Math.min(target.columns.length, int(this.rng, 10, 60))
    const q = this.select(width)
    const cols = target.columns.slice(0, width).join(', ')
    this.add(`INSERT INTO ${this.write(target)} (${cols})\n${q.sql}`)
  }

  private cteInsert(): void {
    const target = this.table()
    const width = int(this.rng, 10, 30)
    const first = this.select(width)
    const second = this.select(width, {name: 'base', columns: first.names})
    this.add(
      `WITH base AS (\n${first.sql}\n),\nenriched AS (\n${second.sql}\n)\nINSERT INTO ${this.write(target)}\nSELECT e.* FROM enriched e WHERE e.${second.names[0] ?? 'c0'} IS NOT NULL`,
    )
  }

  private tempTable(): void {
    const name = `staging.tmp_${this.subject}_${this.index}_${this.tmp++}`
    const q = this.select(int(this.rng, 10, 25))
    this.add(`CREATE TABLE ${name} AS\n${q.sql}`)
    this.writes.add(name)
    const target = this.table()
    this.add(`INSERT INTO ${this.write(target)}\nSELECT ${q.names.slice(0, 8).join(', ')}\nFROM ${name}`)
    this.add(`DROP TABLE IF EXISTS ${name}`)
  }

  private view(): void {
    const name = `mart.v_${this.subject}_${this.index}_${this.tmp++}`
    this.writes.add(name)
    this.add(`CREATE VIEW ${name} AS\n${this.select(int(this.rng, 10, 40)).sql}`)
  }

  private merge(): void {
    const target = this.table()
    const q = this.select(int(this.rng, 10, 20))
    const key = q.names[0] ?? 'c0'
    const sets = q.names.slice(1, 8).map((n, i) => `${target.columns[i + 1] ?? n} = s.${n}`)
    const cols = q.names.slice(0, 8).map((n, i) => target.columns[i] ?? n)
    this.add(
      `MERGE INTO ${this.write(target)} t\nUSING (\n${q.sql}\n) s\nON t.${target.columns[0] ?? 'id'} = s.${key}\nWHEN MATCHED THEN UPDATE SET ${sets.join(', ')}\nWHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${q.names
        .slice(0, 8)
        .map((n) => `s.${n}`)
        .join(', ')})`,
    )
  }

  private update(): void {
    const target = this.table()
    const source = this.table()
    const col = target.columns[1] ?? 'status'
    this.add(
      `UPDATE ${this.write(target)}\nSET ${col} = (SELECT max(s.${source.columns[1] ?? 'id'}) FROM ${source.name} s WHERE s.${source.columns[0] ?? 'id'} = ${target.name}.${target.columns[0] ?? 'id'}),\n    updated_at = current_timestamp\nWHERE status <> 'closed; final'`,
    )
  }

  private createTable(): void {
    const name = `core.${this.subject}_${pick(this.rng, ['audit', 'log', 'queue'])}_${this.index}_${this.tmp++}`
    this.writes.add(name)
    const cols = Array.from(
      {length: int(this.rng, 10, 30)},
      (_, i) => `  c${i}_${pick(this.rng, ATTRS)} ${pick(this.rng, TYPES)}`,
    )
    this.add(`CREATE TABLE IF NOT EXISTS ${name} (\n${cols.join(',\n')},\n  PRIMARY KEY (c0_id)\n)`)
  }
}

const TYPES = ['INT', 'BIGINT', 'VARCHAR(100)', 'DECIMAL(18, 2)', 'DATE', 'TIMESTAMP', 'BOOLEAN']
const NO_LINEAGE = [
  "SET session_timezone = 'UTC'",
  'USE warehouse',
  'GRANT SELECT ON {t} TO analyst_role',
  'ANALYZE {t}',
  'TRUNCATE TABLE {t}',
]
