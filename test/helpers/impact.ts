/**
 * The `lineage impact` scenario the command test (output folder) and the integration test (Neo4j and the
 * output folder) share: a git repository whose `sql/` folder is the watched folder, holding the trace corpus
 * on `main`, ingested by `lineage watch --once`; then a branch that changes it.
 */
import {rmSync} from 'node:fs'
import {join} from 'node:path'

import {execa} from 'execa'
import {expect} from 'chai'

import {cliRun} from '../faults/support/cli.js'
import {CORPUS} from '../core/query/corpus.js'
import {serviceEnv, writeSql} from './service.js'

export interface Repo {
  /** The repository's root. */
  root: string
  /** Its `sql/` folder: LINEAGE_RAW_DIR. */
  raw: string
  env: NodeJS.ProcessEnv
  git(...args: string[]): Promise<string>
}

/** A repository with the corpus committed on main (plus files impact must ignore), ingested into OUT (and Neo4j, when `extra` names it). */
export async function ingestedRepo(dir: string, extra: Record<string, string | undefined> = {}): Promise<Repo> {
  const root = join(dir, 'repo')
  const raw = join(root, 'sql')
  const env = serviceEnv(dir, {LINEAGE_RAW_DIR: raw, INGEST_WORKERS: '1', ...extra})
  const git = async (...args: string[]): Promise<string> => (await execa('git', args, {cwd: root})).stdout
  for (const [path, sql] of Object.entries(CORPUS)) writeSql(raw, path, sql)
  writeSql(root, 'README.md', 'not SQL\n')
  writeSql(root, 'outside.sql', 'INSERT INTO x.outside SELECT a FROM x.source;\n') // outside the watched folder
  await git('init', '-q', '-b', 'main')
  await git('config', 'user.name', 'Lineage Test')
  await git('config', 'user.email', 'lineage-test@example.invalid')
  await git('config', 'commit.gpgsign', 'false')
  await git('add', '-A')
  await git('commit', '-q', '-m', 'corpus')
  const res = await cliRun(['watch', raw, env.LINEAGE_OUT_DIR!, '--once', '--json'], env)
  expect(res.code, res.stderr).to.equal(0)
  expect(JSON.parse(res.stdout)).to.deep.include({files: Object.keys(CORPUS).length, failed: 0})
  return {root, raw, env, git}
}

/**
 * A branch that breaks lineage: stg.trades no longer reads ref.fx (edges removed), mart/weekly.sql is deleted,
 * a new file adds a report, and files outside the watched folder or not SQL change too.
 */
export async function breakingBranch(repo: Repo): Promise<void> {
  await repo.git('checkout', '-q', '-b', 'breaking')
  writeSql(
    repo.raw,
    'etl/stg.sql',
    'INSERT INTO stg.trades (id, notional, ccy)\nSELECT t.id, t.amount, t.ccy FROM raw.trades t;\n',
  )
  rmSync(join(repo.raw, 'mart', 'weekly.sql'))
  writeSql(
    repo.raw,
    'report/monthly.sql',
    'INSERT INTO report.monthly (total)\nSELECT SUM(d.total) FROM mart.daily d;\n',
  )
  writeSql(repo.root, 'README.md', 'still not SQL\n')
  writeSql(repo.root, 'outside.sql', 'INSERT INTO x.outside SELECT b FROM x.other;\n')
  await repo.git('add', '-A')
  await repo.git('commit', '-q', '-m', 'break lineage')
}

/** Run `lineage impact ARGS` in the repository's root with the repository's environment. */
export function impactRun(repo: Repo, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return cliRun(['impact', ...args], {...repo.env, ...extra}, {cwd: repo.root})
}
