/**
 * The service registry: where a running `lineage watch` says "I am here", so that an ops command run from any
 * folder finds the service it means. One JSON file per state folder (the state folder is what an ops command
 * acts on), named by a hash of its path, in a folder that does not depend on the working directory:
 * `$LINEAGE_HOME/run`, else systemd's `$RUNTIME_DIRECTORY` (the shipped unit: /run/lineage), else
 * `$XDG_RUNTIME_DIR/lineage`, else `$XDG_STATE_HOME/lineage/run`, else `/run/lineage` for root and
 * `~/.local/state/lineage/run` for anyone else. Readers also look in /run/lineage unless LINEAGE_HOME is set, so
 * an operator (root, sudo, any user) finds a service the system runs; LINEAGE_HOME isolates a registry. Registrations are written atomically at start
 * and removed at stop; one whose process is gone (kill -9, a crash) is ignored and removed by the next reader.
 * Each file is parsed through RegistrationSchema; anything else in the folder is ignored. Throws the file
 * system's errors only from `register`.
 */
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, rmSync} from 'node:fs'
import {homedir, hostname} from 'node:os'
import {join} from 'node:path'

import * as v from 'valibot'

import {writeFileAtomic} from '../util/fs.js'
import {processAlive} from '../util/process.js'
import {parseJson} from '../util/schema.js'

export const RegistrationSchema = v.object({
  name: v.string(),
  pid: v.pipe(v.number(), v.integer()),
  host: v.string(),
  startedAt: v.string(),
  stateDir: v.string(),
  /** The --config file the service was started with (absolute), so ops commands read the same settings. */
  configFile: v.nullable(v.string()),
  cacheFile: v.string(),
  failedFile: v.string(),
  logFile: v.string(),
  rawDir: v.string(),
  outDir: v.string(),
  metricsUrl: v.nullable(v.string()),
})
export type Registration = v.InferOutput<typeof RegistrationSchema>

/** Where a service under systemd registers (RuntimeDirectory=lineage), and where root looks by default. */
export const SYSTEM_REGISTRY = '/run/lineage'

/** The registry folder for this user and environment (see the module comment for the order). */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LINEAGE_HOME) return join(env.LINEAGE_HOME, 'run')
  // systemd's RuntimeDirectory= (the shipped unit): /run/lineage, writable under ProtectSystem=strict.
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0]
  if (runtime) return runtime
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'lineage')
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'lineage', 'run')
  if (typeof process.getuid === 'function' && process.getuid() === 0) return SYSTEM_REGISTRY
  return join(homedir(), '.local', 'state', 'lineage', 'run')
}

function entryFile(dir: string, stateDir: string): string {
  const key = createHash('sha256').update(stateDir).digest('hex').slice(0, 16)
  return join(dir, `${key}.json`)
}

/** Announce a running service; returns the file written. */
export function register(entry: Registration, env: NodeJS.ProcessEnv = process.env): string {
  const file = entryFile(registryDir(env), entry.stateDir)
  writeFileAtomic(file, `${JSON.stringify(entry, null, 2)}\n`, {fsync: false})
  return file
}

/** Remove the registration of `stateDir`, only if it is still this process's. */
export function unregister(stateDir: string, pid: number, env: NodeJS.ProcessEnv = process.env): void {
  const file = entryFile(registryDir(env), stateDir)
  if (readEntry(file)?.pid === pid) rmSync(file, {force: true})
}

function readEntry(file: string): Registration | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const json = parseJson(text)
  const parsed = json.ok ? v.safeParse(RegistrationSchema, json.value) : undefined
  return parsed?.success ? parsed.output : undefined
}

/** A registration from this host whose process still runs; one from another host counts as alive. */
function alive(entry: Registration): boolean {
  return entry.host !== hostname() || processAlive(entry.pid)
}

/**
 * The folders a reader looks in: its own registry, and the system one where a service under systemd registers
 * (unless LINEAGE_HOME isolates this registry: tests, several installations on one host).
 */
function readDirs(env: NodeJS.ProcessEnv): string[] {
  const own = registryDir(env)
  return env.LINEAGE_HOME || own === SYSTEM_REGISTRY ? [own] : [own, SYSTEM_REGISTRY]
}

/** The running services, oldest first. Stale registrations (their pid is gone) are removed on the way. */
export function listServices(env: NodeJS.ProcessEnv = process.env): Registration[] {
  const live = new Map<string, Registration>()
  for (const dir of readDirs(env)) {
    let names: string[]
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json'))
    } catch {
      continue
    }
    for (const name of names) {
      const file = join(dir, name)
      const entry = readEntry(file)
      if (!entry) continue
      if (alive(entry)) live.set(entry.stateDir, entry)
      else removeStale(file)
    }
  }
  return [...live.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt))
}

/** Another user's stale registration (the system registry) may not be ours to remove: it is ignored anyway. */
function removeStale(file: string): void {
  try {
    rmSync(file, {force: true})
  } catch {
    // Ignored: a stale registration is skipped on every read.
  }
}
