/**
 * SQL files for the fault scenarios: a few statements each, with tables shared between files (so a fault
 * that leaves a shared node behind, or takes one away, shows in the graph), spread over sub-folders.
 */
import {createHash} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'

import {ledgerRows} from '../../helpers/ledger.js'
import type {Neo4jContext} from '../../helpers/neo4j.js'

/** The SQL of file i; `version` changes its lineage (an edit). */
export function sqlFor(i: number, version = 0): string {
  const v = version === 0 ? '' : `_v${version}`
  return [
    `CREATE TABLE stg.t${i}${v} AS SELECT s.id, s.amount * fx.rate AS amount_usd, s.ccy`,
    `  FROM raw.src${i % 17} s JOIN ref.fx fx ON fx.ccy = s.ccy;`,
    `INSERT INTO mart.m${i % 23} (id, total) SELECT id, SUM(amount_usd) FROM stg.t${i}${v} GROUP BY id;`,
    '',
  ].join('\n')
}

/** A one-statement file, for floods where the number of files matters, not what each holds. */
export function lightSqlFor(i: number): string {
  return `INSERT INTO mart.m${i % 23} (id) SELECT id FROM stg.s${i};\n`
}

export function relFor(i: number): string {
  return `d${i % 8}/f${String(i).padStart(5, '0')}.sql`
}

export function writeFile(root: string, rel: string, content: string | Buffer): string {
  const abs = join(root, rel)
  mkdirSync(dirname(abs), {recursive: true})
  writeFileSync(abs, content)
  return abs
}

/** Write files from..from+n-1; returns their relative paths. */
export function writeCorpus(root: string, n: number, from = 0, sql: (i: number) => string = sqlFor): string[] {
  const rels: string[] = []
  for (let i = from; i < from + n; i++) {
    rels.push(relFor(i))
    writeFile(root, relFor(i), sql(i))
  }
  return rels
}

export async function sqlFileCount(neo: Pick<Neo4jContext, 'query'>): Promise<number> {
  const rows = await neo.query('MATCH (f:SqlFile) RETURN count(f) AS n')
  return Number(rows[0]?.n ?? 0)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const hashes = new Map<string, {size: number; mtimeMs: number; hash: string}>()

/** The .sql files under raw (no dot segments, regular files only), relative, with the sha256 of their content. */
export function folderHashes(rawDir: string, except: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      if (e.name.startsWith('.')) continue
      const abs = join(dir, e.name)
      if (e.isDirectory()) walk(abs)
      else if (e.isFile() && e.name.endsWith('.sql') && !except(relative(rawDir, abs))) {
        try {
          const st = statSync(abs)
          let known = hashes.get(abs)
          if (known?.size !== st.size || known.mtimeMs !== st.mtimeMs) {
            known = {
              size: st.size,
              mtimeMs: st.mtimeMs,
              hash: createHash('sha256').update(readFileSync(abs)).digest('hex'),
            }
            hashes.set(abs, known)
          }
          out.set(relative(rawDir, abs), known.hash)
        } catch {
          // unreadable or gone: not expected in the ledger
        }
      }
    }
  }
  walk(rawDir)
  return out
}

/**
 * Wait until the service has caught up with the folder: every file in the ledger with its current content
 * and one of the `graph` statuses (written by default), and no row for a file that is gone.
 */
export async function waitCaughtUp(
  env: NodeJS.ProcessEnv,
  options: {timeoutMs?: number; graph?: string[]; except?: (rel: string) => boolean} = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  let behind = ''
  for (;;) {
    const disk = folderHashes(env.LINEAGE_RAW_DIR!, options.except)
    const ledger = ledgerRows(env.LINEAGE_STATE_DIR!)
    const lag: string[] = []
    for (const [rel, hash] of disk) {
      const row = ledger.get(rel)
      if (row?.hash !== hash || !(options.graph ?? ['written']).includes(row.graph))
        lag.push(`${rel} ${row ? row.graph : 'missing'}`)
    }
    for (const rel of ledger.keys())
      if (!disk.has(rel) && !options.except?.(rel)) lag.push(`${rel} still in the ledger`)
    if (lag.length === 0) return
    behind = `${lag.length} file(s) behind, e.g. ${lag.slice(0, 3).join('; ')}`
    if (process.env.FAULT_DEBUG) process.stderr.write(`${new Date().toISOString()} ${behind}\n`)
    if (Date.now() > deadline) throw new Error(`the service did not catch up with the folder: ${behind}`)
    // Hashing a big folder costs the service CPU: look less often.
    await sleep(disk.size > 1000 ? 1000 : 200)
  }
}
