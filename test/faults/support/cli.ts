/**
 * The built CLI as a child process (`node bin/run.js ...`), for the faults that need a real process: kill -9,
 * SIGTERM, a root without its read override. Run `npx tsc -p tsconfig.build.json` first; the children run dist/.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join, resolve} from 'node:path'

export const ROOT = resolve(import.meta.dirname, '..', '..', '..')
export const RUN_JS = join(ROOT, 'bin', 'run.js')

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface Cli {
  readonly child: ChildProcess
  readonly pid: number
  readonly stdout: () => string
  readonly stderr: () => string
  /** Set once the process has ended. */
  readonly exit: () => Exit | undefined
  readonly exited: Promise<Exit>
  kill(signal?: NodeJS.Signals): void
}

export interface CliOptions {
  cwd?: string
  /**
   * Run without the capabilities that let root read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), through
   * util-linux's setpriv, so a `chmod 000` file is unreadable even to root. (Running as another user instead
   * would need that user to reach the checkout, which a private temporary folder does not allow.)
   */
  withoutReadOverride?: boolean
}

/**
 * Start `lineage ARGS`. The environment is this process's minus any Neo4j connection (a test that wants the
 * graph passes NEO4J_URI itself), plus `env`.
 */
export function cli(args: string[], env: NodeJS.ProcessEnv, options: CliOptions = {}): Cli {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'watch.js'))) {
    throw new Error('dist/ is missing: build first with "npx tsc -p tsconfig.build.json"')
  }
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NEO4J_')))
  const command = [process.execPath, RUN_JS, ...args]
  if (options.withoutReadOverride === true) {
    command.unshift('setpriv', '--bounding-set=-dac_override,-dac_read_search', '--')
  }
  const child = spawn(command[0]!, command.slice(1), {
    cwd: options.cwd ?? ROOT,
    env: {...base, NO_COLOR: '1', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  let ended: Exit | undefined
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<Exit>((done) =>
    child.on('close', (code, signal) => {
      ended = {code, signal}
      done(ended)
    }),
  )
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exit: () => ended,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (ended === undefined) child.kill(signal)
    },
  }
}

/** Run to the end; fails the test when it does not end within timeoutMs. */
export async function cliRun(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: CliOptions & {timeoutMs?: number} = {},
): Promise<Exit & {stdout: string; stderr: string}> {
  const c = cli(args, env, options)
  const timer = setTimeout(() => {
    c.kill('SIGKILL')
  }, options.timeoutMs ?? 120_000)
  const exit = await c.exited
  clearTimeout(timer)
  return {...exit, stdout: c.stdout(), stderr: c.stderr()}
}

/** Kill a child that is still running (afterEach), and wait for it. */
export async function reap(c: Cli | undefined): Promise<void> {
  if (!c || c.exit()) return
  c.kill('SIGKILL')
  await c.exited
}
