/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   neo4j-driver declares its option bags as classes, yet documents and accepts plain objects. */
/**
 * A private Neo4j for the faults that stop the database or need auth on: the same embedded launcher
 * scripts/neo4j-test-server.sh runs (jars and classes it fetched into .neo4j-test/), on its own free port and
 * temporary home, so stopping it never disturbs the shared test server. `stop()` and `start()` keep the port
 * and the home: a real outage and a real recovery of the same database.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import neo4j from 'neo4j-driver'

import {graphSnapshot, type Neo4jContext} from '../../helpers/neo4j.js'
import {ROOT} from './cli.js'

const JVM_FLAGS = [
  '-Xmx512m',
  '-XX:+ExitOnOutOfMemoryError',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--enable-native-access=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
]

export interface PrivateNeo4j {
  readonly uri: string
  readonly password: string
  readonly running: boolean
  /** SIGTERM, and wait until the JVM has exited (SIGKILL after 20 s). */
  stop(): Promise<void>
  /** Start again on the same port and home; resolves once it accepts Bolt connections. */
  start(): Promise<void>
  /** Stop and delete the home. */
  close(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => {
        resolve(port)
      })
    })
  })
}

/**
 * Start one. With a password, auth is on for the first start only: the launcher sets the password at every
 * start and Neo4j refuses to set the same one twice, so an auth-on server cannot be restarted here.
 */
export async function startPrivateNeo4j(options: {password?: string} = {}): Promise<PrivateNeo4j> {
  const work = process.env.NEO4J_TEST_DIR ?? join(ROOT, '.neo4j-test')
  if (!existsSync(join(work, 'classes', 'Launcher.class'))) {
    throw new Error(`no Neo4j launcher in ${work}: run "bash scripts/neo4j-test-server.sh fetch" first`)
  }
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
  const port = await freePort()
  const tmp = mkdtempSync(join(tmpdir(), 'neo4j-test.fault-'))
  const password = options.password ?? ''
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let starts = 0

  const start = async (): Promise<void> => {
    if (child) return
    if (password !== '' && starts > 0) throw new Error('an auth-on private Neo4j cannot be restarted')
    starts++
    const proc = spawn(
      java,
      [...JVM_FLAGS, '-cp', `${work}/classes:${work}/lib/*`, 'Launcher', String(port), join(tmp, 'home')],
      {
        env: {...process.env, NEO4J_TEST_WATCH_PID: String(process.pid), NEO4J_TEST_PASSWORD: password},
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    child = proc
    exited = new Promise((done) =>
      proc.once('exit', () => {
        done()
      }),
    )
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`private Neo4j not ready within 120 s:\n${output.slice(-2000)}`))
      }, 120_000)
      const onData = (d: Buffer): void => {
        output += d.toString()
        if (output.includes('NEO4J_READY ')) {
          clearTimeout(timer)
          resolve()
        }
      }
      proc.stdout.on('data', onData)
      proc.stderr.on('data', (d: Buffer) => (output += d.toString()))
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`private Neo4j exited (${code}) before it was ready:\n${output.slice(-2000)}`))
      })
    })
  }

  const stop = async (): Promise<void> => {
    const proc = child
    if (!proc) return
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
    child = undefined
  }

  await start()
  return {
    uri: `bolt://127.0.0.1:${port}`,
    password,
    get running() {
      return child !== undefined
    },
    stop,
    start,
    close: async () => {
      await stop()
      rmSync(tmp, {recursive: true, force: true})
    },
  }
}

/** The test context (query, cleanGraph, graphSnapshot) of a private server; close it in after(). */
export function privateContext(
  server: PrivateNeo4j,
): Pick<Neo4jContext, 'uri' | 'query' | 'cleanGraph' | 'graphSnapshot'> & {close(): Promise<void>} {
  const auth = server.password === '' ? {scheme: 'none', credentials: ''} : neo4j.auth.basic('neo4j', server.password)
  const driver = neo4j.driver(server.uri, auth, {disableLosslessIntegers: true})
  const ctx = {
    uri: server.uri,
    query: async (cypher: string, params: Record<string, unknown> = {}) => {
      const session = driver.session()
      try {
        return (await session.run(cypher, params)).records.map((r) => r.toObject() as Record<string, unknown>)
      } finally {
        await session.close()
      }
    },
    cleanGraph: async () => {
      await ctx.query('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS')
    },
    graphSnapshot: () => graphSnapshot(ctx),
    close: () => driver.close(),
  }
  return ctx
}

/** As useNeo4j does: without the test harness (NEO4J_URI unset) fail under CI=true, else skip loudly. */
export function requireNeo4jHarness(ctx: Mocha.Context): void {
  if (process.env.NEO4J_URI) return
  const message = 'no Neo4j harness: run through "bash scripts/neo4j-test-server.sh run -- npx mocha ..."'
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true: a missing Neo4j is a failure)`)
  process.stderr.write(`\n${'#'.repeat(100)}\n# SKIPPED Neo4j fault tests: ${message}\n${'#'.repeat(100)}\n\n`)
  ctx.skip()
}
