/**
 * The service registry: where a running `lineage watch` says "I am here", so that an ops command run from any
 * folder finds the service it means. One JSON file per state folder (the state folder is what an ops command
 * acts on), named by a hash of its path, in a folder that does not depend on the working directory:
 * `$LINEAGE_HOME/run`, else `$XDG_RUNTIME_DIR/lineage`, else `$XDG_STATE_HOME/lineage/run`, else `/run/lineage`
 * for root and `~/.local/state/lineage/run` for anyone else. A service and its operators must agree on it: under
 * systemd (another user, sudo) set LINEAGE_HOME for both. Registrations are written atomically at start
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

/** The registry folder for this user and environment (see the module comment for the order). */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LINEAGE_HOME) return join(env.LINEAGE_HOME, 'run')
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'lineage')
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'lineage', 'run')
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/run/lineage'
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

/** The running services, oldest first. Stale registrations (their pid is gone) are removed on the way. */
export function listServices(env: NodeJS.ProcessEnv = process.env): Registration[] {
  const dir = registryDir(env)
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'))
  } catch {
    return []
  }
  const live: Registration[] = []
  for (const name of names) {
    const file = join(dir, name)
    const entry = readEntry(file)
    if (!entry) continue
    if (alive(entry)) live.push(entry)
    else rmSync(file, {force: true})
  }
  return live.sort((a, b) => a.startedAt.localeCompare(b.startedAt))
}
