import {readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {expect} from 'chai'

import {serviceEnv, waitFor} from '../helpers/service.js'
import {useTmpDir} from '../helpers/tmp.js'
import {cli, cliRun, type Cli, reap} from './support/cli.js'
import {waitCaughtUp, writeCorpus, writeFile} from './support/corpus.js'
import {type PrivateNeo4j, privateContext, requireNeo4jHarness, startPrivateNeo4j} from './support/neo4j-server.js'
import {expectSameAsCleanIngestion} from './support/reference.js'

const PASSWORD = 'Fault-Pa55word-x9q' // the server's
const WRONG = 'Wrong-Pa55word-k7z' // a rejected one, which must not leak either
const LONG = 'l'.repeat(10_000)

/** Names the parser keeps as they are written (backtick-quoted, so their case is kept too). */
const EVIL_SQL = [
  'INSERT INTO `x}) DETACH DELETE (n` (`it\'s`, `say "hi"`, `back``tick`, `new\nline`)',
  'SELECT s.`a\'1`, s.`b"2`, s.`c3`, s.d FROM `line1\nline2` s;',
  `CREATE TABLE \`ünï €\` AS SELECT ${LONG}.id FROM ${LONG};`,
  "INSERT INTO `bt``}) MATCH (m) DETACH DELETE m //` (a) SELECT a FROM `quo'te`;",
  '',
].join('\n')
const EVIL_TABLES = [
  'x}) DETACH DELETE (n',
  'line1\nline2',
  'ünï €',
  LONG,
  'bt`}) MATCH (m) DETACH DELETE m //',
  "quo'te",
]
const EVIL_COLUMNS = [
  "x}) DETACH DELETE (n.it's",
  'x}) DETACH DELETE (n.say "hi"',
  'x}) DETACH DELETE (n.back`tick',
  'x}) DETACH DELETE (n.new\nline',
  "line1\nline2.a'1",
  'line1\nline2.b"2',
]

describe('fault: hostile names, symlinks out of the folder, and credentials', function () {
  this.timeout(180_000)
  let server: PrivateNeo4j | undefined
  let neo: ReturnType<typeof privateContext> | undefined
  let child: Cli | undefined
  const tmp = useTmpDir({
    prefix: 'lineage-fault-',
    cleanup: async () => {
      await reap(child)
    },
  })
  before(async function () {
    requireNeo4jHarness(this)
    server = await startPrivateNeo4j({password: PASSWORD})
    neo = privateContext(server)
  })
  after(async () => {
    await neo?.close()
    await server?.close()
  })
  beforeEach(async () => {
    await neo?.cleanGraph()
  })

  it('stores hostile names verbatim, follows no symlink out of the folder, and never shows the password', async () => {
    const db = neo!
    const auth = {NEO4J_URI: server!.uri, NEO4J_USER: 'neo4j', NEO4J_PASSWORD: PASSWORD, LINEAGE_LOG_LEVEL: 'debug'}
    const env = serviceEnv(tmp.dir, {...auth, METRICS_PORT: '0'})
    const raw = env.LINEAGE_RAW_DIR!
    const seen: string[] = []
    const keep = (r: {stdout: string; stderr: string}): void => {
      seen.push(r.stdout, r.stderr)
    }
    writeCorpus(raw, 10)
    writeFile(raw, 'evil/names.sql', EVIL_SQL)
    // Outside the watched folder, reachable only through symlinks.
    const outside = join(tmp.dir, 'outside')
    writeFile(outside, 'secret.sql', 'INSERT INTO leaked.t SELECT * FROM secret.s;\n')
    symlinkSync(join(outside, 'secret.sql'), join(raw, 'link.sql'))
    symlinkSync(outside, join(raw, 'linkdir'))

    // 1. --once, with the password in the environment and every log line on.
    const once = await cliRun(['watch', raw, env.LINEAGE_OUT_DIR!, '--once', '--json'], env, {cwd: tmp.dir})
    keep(once)
    expect(once.code, once.stderr).to.equal(0)
    expect(once.stderr).to.match(/ignoring symlink that leads outside the watched folder: link\.sql/)

    // 2. A running service, the password from a file; symlinks added while it runs; metrics and health.
    const secretFile = join(tmp.dir, 'neo4j-password')
    writeFileSync(secretFile, `${PASSWORD}\n`)
    const fromFile = Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'NEO4J_PASSWORD'))
    child = cli(['watch', raw, env.LINEAGE_OUT_DIR!], {...fromFile, NEO4J_PASSWORD_FILE: secretFile}, {cwd: tmp.dir})
    const heartbeat = join(env.LINEAGE_STATE_DIR!, 'service.json')
    await waitFor('the service up', () => statSync(heartbeat, {throwIfNoEntry: false}) !== undefined, 30_000)
    symlinkSync(join(outside, 'secret.sql'), join(raw, 'live-link.sql'))
    symlinkSync(outside, join(raw, 'live-linkdir'))
    writeFile(raw, 'evil/after.sql', 'INSERT INTO after.t SELECT a FROM after.s;\n')
    await waitCaughtUp(env)
    const {metricsUrl} = JSON.parse(readFileSync(heartbeat, 'utf8')) as {metricsUrl: string}
    seen.push(readFileSync(heartbeat, 'utf8'))
    seen.push(await (await fetch(metricsUrl)).text())
    seen.push(await (await fetch(metricsUrl.replace('/metrics', '/healthz'))).text())
    child.kill('SIGTERM')
    expect((await child.exited).code, child.stderr()).to.equal(0)
    keep({stdout: child.stdout(), stderr: child.stderr()})
    expect(child.stderr()).to.match(/ignoring symlink that leads outside the watched folder: live-link\.sql/)

    // 3. The failure paths: a wrong password, the password in the URI, Neo4j unreachable, then the ops commands.
    const elsewhere = (name: string): NodeJS.ProcessEnv => ({
      ...env,
      LINEAGE_STATE_DIR: join(tmp.dir, `state-${name}`),
      LINEAGE_FAILED_FILE: join(tmp.dir, `failed-${name}.jsonl`),
    })
    const wrong = await cliRun(['watch', raw, join(tmp.dir, 'out-wrong'), '--once', '--json'], {
      ...elsewhere('wrong'),
      NEO4J_PASSWORD: WRONG,
    })
    keep(wrong)
    expect(wrong.code, 'a rejected password is a configuration error').to.equal(78)
    expect(wrong.stdout).to.match(/rejected the credentials/)
    const inUri = {
      ...elsewhere('uri'),
      NEO4J_URI: server!.uri.replace('//', `//neo4j:${WRONG}@`),
      NEO4J_PASSWORD: WRONG,
    }
    keep(await cliRun(['watch', raw, join(tmp.dir, 'out-uri'), '--once', '--json'], inUri))
    const down = {...env, NEO4J_URI: 'bolt://127.0.0.1:1'}
    writeFile(raw, 'evil/late.sql', 'INSERT INTO late.t SELECT a FROM late.s;\n')
    const unreachable = await cliRun(['watch', raw, env.LINEAGE_OUT_DIR!, '--once', '--json'], down)
    keep(unreachable)
    expect(JSON.parse(unreachable.stdout)).to.have.property('graphFailures').above(0)
    for (const args of [
      ['retry-failed', '--json'],
      ['flags', 'status', '--json'],
      ['verify', '--json', '--timeout', '10'],
    ]) {
      keep(await cliRun(args, down))
    }
    keep(await cliRun(['verify', '--json', '--timeout', '10', '--no-canary'], env))
    const replay = await cliRun(['retry-failed', '--json'], env)
    keep(replay)
    expect(replay.code, replay.stdout).to.equal(0)

    // No credential anywhere: what was printed, served, logged or written.
    const files = (dir: string): string[] =>
      readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
        const p = join(dir, e.name)
        if (e.isSymbolicLink() || p === raw || p === outside || p === secretFile) return []
        return e.isDirectory() ? files(p) : [p]
      })
    const written = files(tmp.dir)
    expect(written.some((f) => f.endsWith('ingestion.log'))).to.equal(true)
    for (const f of written) seen.push(readFileSync(f).toString('latin1'))
    for (const secret of [PASSWORD, WRONG, encodeURIComponent(WRONG)]) {
      const leaks = seen.filter((text) => text.includes(secret)).map((t) => t.slice(0, 200))
      expect(leaks, `the password ${secret === PASSWORD ? '' : '(wrong) '}appears`).to.deep.equal([])
    }

    // Hostile names verbatim; nothing from outside the folder; everything else as a clean ingestion.
    const tables = new Set((await db.query('MATCH (t:Table) RETURN t.name AS n')).map((r) => r.n))
    for (const name of EVIL_TABLES)
      expect(tables.has(name), `table ${JSON.stringify(name.slice(0, 60))}`).to.equal(true)
    const columns = new Set((await db.query('MATCH (c:Column) RETURN c.id AS n')).map((r) => r.n))
    for (const id of EVIL_COLUMNS) expect(columns.has(id), `column ${JSON.stringify(id)}`).to.equal(true)
    const leaked = await db.query(
      "MATCH (n) WHERE any(v IN [n.name, n.path] WHERE v CONTAINS 'leaked' OR v CONTAINS 'link') RETURN n",
    )
    expect(leaked).to.deep.equal([])
    await expectSameAsCleanIngestion(db, {
      rawDir: raw,
      outDir: env.LINEAGE_OUT_DIR!,
      env: {NEO4J_USER: 'neo4j', NEO4J_PASSWORD: PASSWORD},
    })
  })
})
