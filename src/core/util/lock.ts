/**
 * Locks between processes on a file, taken without ever blocking the event loop (a held lock must not freeze
 * /healthz or the watcher). proper-lockfile makes the folder `<file>.lock` (mkdir is atomic, on NFS too) and
 * refreshes its mtime while it is held; beside it, `<file>.lock.owner` names the holder (pid, host), so a
 * waiter can say who holds it and tell a dead holder from a slow one. The file itself need not exist.
 *
 * A held lock is broken:
 * - at once, when its holder ran on this host and its pid is gone (killed -9, crashed);
 * - after LOCK_STALE_MS without a refresh of its mtime (proper-lockfile's own rule): a holder on another host
 *   that died, or one killed between making the folder and naming itself.
 * The values: the holder refreshes every LOCK_UPDATE_MS from a timer, so it keeps its lock through up to about
 * LOCK_STALE_MS - LOCK_UPDATE_MS (8 s) of a blocked event loop. The locks here are held for milliseconds (an
 * append, a rewrite, a flag change) or across a replay that awaits Neo4j, never through seconds of synchronous
 * work, so 10 s is far from breaking a live holder and still short enough that a lock nobody can name costs one
 * wait. DEFAULT_WAIT_MS outlasts LOCK_STALE_MS, so a waiter never gives up on a dead holder it cannot name.
 *
 * The retry loop is ours rather than proper-lockfile's `retries`: between two attempts it reads the owner, to
 * break a dead holder's lock at once and to name a live one in the error.
 *
 * Throws LineageError E_LOCKED naming the holder when the lock cannot be had within the wait (or the error
 * `lockedError` makes), and the file system's errors as they are.
 */
import {randomUUID} from 'node:crypto'
import * as fs from 'node:fs'
import {hostname} from 'node:os'
import {dirname} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import * as v from 'valibot'

import {LineageError} from '../errors.js'
import {processAlive} from './process.js'
import {parseJson} from './schema.js'

export const LOCK_STALE_MS = 10_000
export const LOCK_UPDATE_MS = 2_000
export const DEFAULT_WAIT_MS = 15_000
/** Pause between two attempts while a live holder keeps the lock (jittered, so waiters do not march in step). */
const RETRY_MS = {min: 5, max: 30}

export interface LockOptions {
  /** How long to wait for a live holder (ms); 0 fails at once when the lock is held. */
  waitMs?: number
  /** The error to throw when the lock cannot be had in time; default E_LOCKED naming the file and holder. */
  lockedError?: (holder: string, lockPath: string) => LineageError
}

export interface HeldLock {
  /** Give the lock back (a no-op the second time, or when it was broken meanwhile: it is someone else's). */
  release(): Promise<void>
  /** Set when proper-lockfile found the lock broken or taken over while held. */
  readonly compromised: Error | undefined
}

export function lockPath(file: string): string {
  return `${file}.lock`
}

export function lockOwnerPath(file: string): string {
  return `${lockPath(file)}.owner`
}

const OwnerSchema = v.object({pid: v.pipe(v.number(), v.integer()), host: v.string(), token: v.string()})
type Owner = v.InferOutput<typeof OwnerSchema>

/**
 * The fs proper-lockfile works through: node's, except that removing a lock folder (a release, a stale lock
 * broken, the clean-up at exit) first removes the owner file beside it, so no owner outlives its lock.
 */
const LOCK_FS = {
  ...fs,
  rmdir(path: string, callback: (error: NodeJS.ErrnoException | null) => void): void {
    fs.rm(`${path}.owner`, {force: true}, () => {
      fs.rmdir(path, callback)
    })
  },
  rmdirSync(path: string): void {
    fs.rmSync(`${path}.owner`, {force: true})
    fs.rmdirSync(path)
  },
}

type Lockfile = typeof import('proper-lockfile')
let lockfile: Lockfile | undefined

/** proper-lockfile loads on the first lock: commands that take none start without it. */
async function loadLockfile(): Promise<Lockfile> {
  lockfile ??= await import('proper-lockfile')
  return lockfile
}

/** Take the lock on `file`, waiting up to `waitMs` for a live holder. */
export async function acquireLock(file: string, options: LockOptions = {}): Promise<HeldLock> {
  const {lock} = await loadLockfile()
  fs.mkdirSync(dirname(file), {recursive: true})
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS)
  let compromised: Error | undefined
  for (;;) {
    let release: (() => Promise<void>) | undefined
    try {
      release = await lock(file, {
        stale: LOCK_STALE_MS,
        update: LOCK_UPDATE_MS,
        realpath: false,
        lockfilePath: lockPath(file),
        fs: LOCK_FS,
        // The default throws from a timer and kills the process; a broken lock is reported on the handle instead.
        onCompromised: (error) => {
          compromised = error
        },
      })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
    }
    if (release) return await held(file, release, () => compromised)
    const holder = readHolder(file)
    if (holder.dead) {
      breakLock(file, holder.owner)
      continue
    }
    if (Date.now() >= deadline) {
      throw (
        options.lockedError?.(holder.who, lockPath(file)) ??
        new LineageError(
          'E_LOCKED',
          `${file} is locked by ${holder.who}`,
          `Wait for it to finish and run again; if that process is gone, remove ${lockPath(file)}.`,
        )
      )
    }
    const pause = RETRY_MS.min + Math.random() * (RETRY_MS.max - RETRY_MS.min)
    await sleep(Math.min(pause, Math.max(1, deadline - Date.now())))
  }
}

/** Run `fn` holding the lock on `file`; the lock is given back however `fn` ends. */
export async function withLock<T>(file: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(file, options)
  try {
    return await fn()
  } finally {
    await lock.release()
  }
}

async function held(
  file: string,
  release: () => Promise<void>,
  compromised: () => Error | undefined,
): Promise<HeldLock> {
  const owner: Owner = {pid: process.pid, host: hostname(), token: randomUUID()}
  try {
    // Named right away (synchronously), so the window in which the folder stands without an owner stays tiny.
    fs.writeFileSync(lockOwnerPath(file), JSON.stringify(owner))
  } catch (error) {
    await release()
    throw error
  }
  let released = false
  return {
    get compromised() {
      return compromised()
    },
    async release() {
      if (released) return
      released = true
      if (compromised()) return
      await release()
    },
  }
}

interface Holder {
  who: string
  dead: boolean
  owner?: Owner
}

function readHolder(file: string): Holder {
  let text: string
  try {
    text = fs.readFileSync(lockOwnerPath(file), 'utf8')
  } catch {
    // Not named yet (just taken), or its holder died before naming itself: staleness decides.
    return {who: 'another process', dead: false}
  }
  const json = parseJson(text)
  const parsed = json.ok ? v.safeParse(OwnerSchema, json.value) : undefined
  if (!parsed?.success) return {who: 'another process', dead: false}
  const owner = parsed.output
  const dead = owner.host === hostname() && !processAlive(owner.pid)
  return {who: `pid ${owner.pid} on ${owner.host}`, dead, owner}
}

/** Remove a dead holder's lock, unless it changed hands since it was read (then it is not that holder's any more). */
function breakLock(file: string, owner: Owner | undefined): void {
  const now = readHolder(file)
  if (owner === undefined || now.owner?.token !== owner.token) return
  fs.rmSync(lockOwnerPath(file), {force: true})
  try {
    fs.rmdirSync(lockPath(file))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
