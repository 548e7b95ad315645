/**
 * Watching the folder of SQL files (chokidar); the start-up scan of it is reconciler.ts.
 *
 * Only files with a configured extension count; dotfiles and dot-folders are ignored, and so is a symlink
 * whose target lies outside the watched folder (it is untrusted: it could expose any file on the host).
 * A file is reported only once its size has settled, so a half-written file is never parsed; anything but a
 * regular file (a FIFO, a socket, a device) is ignored, since reading it could block forever. An exhausted
 * inotify watch limit becomes a LineageError that names the sysctl to raise.
 *
 * A folder that appears while watching is listed again by us, NEW_FOLDER_RESCANS_MS after it appeared: chokidar
 * (4 and 5) reads a new folder first and registers its watch after, so a file written in between is never
 * reported (paulmillr/chokidar#1471; `mkdir -p x && cp a.sql x/` under load hits it, and so did CI). What the
 * second listing finds that chokidar did not report, and that has not changed for `settleMs`, is reported then;
 * a file still being written is left to chokidar, which sees its next write once the watch is there.
 */
import {readdirSync, realpathSync, statSync} from 'node:fs'
import {dirname, extname, join, relative, sep} from 'node:path'

import type {FSWatcher} from 'chokidar'

import {errorMessage, LineageError} from '../errors.js'
import {isInside} from '../util/fs.js'
import type {Logger} from '../logger.js'

export interface WatchOptions {
  rawDir: string
  extensions: readonly string[]
  poll: boolean
  /** How long a file's size must stay unchanged before it is reported. */
  settleMs: number
  logger: Logger
  onEvent(op: 'upsert' | 'remove', relPath: string): void
  onError(error: LineageError): void
}

/** True for a path (relative to the folder) the service ingests: right extension, no dot segment. */
export function isWatchedPath(relPath: string, extensions: readonly string[]): boolean {
  if (relPath === '' || relPath.startsWith('..')) return false
  if (relPath.split(sep).some((part) => part.startsWith('.'))) return false
  return extensions.includes(extname(relPath).toLowerCase())
}

/** For a symlink: does it resolve to a file inside the folder? Plain files are always inside. */
export function resolvesInside(realRoot: string, absPath: string): boolean {
  try {
    return isInside(realRoot, realpathSync(absPath))
  } catch {
    return false
  }
}

function isRegularFile(absPath: string): boolean {
  try {
    return statSync(absPath).isFile()
  } catch {
    return true // gone already: the reader reports it as vanished
  }
}

function watchLimitError(error: NodeJS.ErrnoException): LineageError {
  return new LineageError(
    'E_WATCH_LIMIT',
    `the system limit on file watches is exhausted (${error.code ?? 'ENOSPC'})`,
    'Raise it with "sudo sysctl fs.inotify.max_user_watches=524288" (persist it in /etc/sysctl.d/), or run watch with --poll.',
  )
}

/** When a new folder is listed again, after it appeared (ms). */
export const NEW_FOLDER_RESCANS_MS: readonly number[] = [500, 3000]

/**
 * The files directly in `dir` not in `reported` and unchanged since `settledBefore` (an mtime in ms): those a
 * new folder's watch may have missed. Folders are left out (each has its own `addDir`); a folder gone is empty.
 */
export function filesMissedIn(dir: string, reported: ReadonlySet<string>, settledBefore: number): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const missed: string[] = []
  for (const name of names) {
    const abs = join(dir, name)
    if (reported.has(abs)) continue
    try {
      const st = statSync(abs)
      if (!st.isDirectory() && st.mtimeMs <= settledBefore) missed.push(abs)
    } catch {
      // gone meanwhile
    }
  }
  return missed.sort()
}

/** Start watching; resolves once chokidar has finished its initial walk of the folder. */
export async function startWatcher(options: WatchOptions): Promise<{close: () => Promise<void>}> {
  const {watch} = await import('chokidar')
  const realRoot = realpathSync(options.rawDir)
  const watcher: FSWatcher = watch(options.rawDir, {
    ignoreInitial: true,
    persistent: true,
    followSymlinks: false,
    usePolling: options.poll,
    interval: 500,
    binaryInterval: 1000,
    atomic: true,
    awaitWriteFinish: options.settleMs > 0 ? {stabilityThreshold: options.settleMs, pollInterval: 50} : false,
    ignored: (path: string) => {
      const rel = relative(options.rawDir, path)
      return rel !== '' && rel.split(sep).some((part) => part.startsWith('.'))
    },
  })
  const report = (op: 'upsert' | 'remove') => (abs: string) => {
    const rel = relative(options.rawDir, abs)
    if (!isWatchedPath(rel, options.extensions)) return
    if (op === 'upsert' && !resolvesInside(realRoot, abs)) {
      options.logger.warn(`ignoring symlink that leads outside the watched folder: ${rel}`)
      return
    }
    if (op === 'upsert' && !isRegularFile(abs)) {
      // A FIFO would block the reader forever, a device could be endless.
      options.logger.warn(`ignoring ${rel}: not a regular file`)
      return
    }
    fresh.get(dirname(abs))?.add(abs)
    options.onEvent(op, rel)
  }
  // New folders, until listed again for the last time: the files chokidar reported in each meanwhile.
  const fresh = new Map<string, Set<string>>()
  const timers = new Set<NodeJS.Timeout>()
  watcher.on('addDir', (dir: string) => {
    if (fresh.has(dir)) return
    fresh.set(dir, new Set())
    NEW_FOLDER_RESCANS_MS.forEach((ms, i) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        const reported = fresh.get(dir) ?? new Set<string>()
        for (const abs of filesMissedIn(dir, reported, Date.now() - options.settleMs)) {
          options.logger.debug(`found ${relative(options.rawDir, abs)} in a new folder that the watcher missed`)
          report('upsert')(abs)
        }
        if (i === NEW_FOLDER_RESCANS_MS.length - 1) fresh.delete(dir)
      }, ms)
      timer.unref()
      timers.add(timer)
    })
  })
  watcher.on('add', report('upsert'))
  watcher.on('change', report('upsert'))
  watcher.on('unlink', report('remove'))
  watcher.on('error', (error: unknown) => {
    const err = error as NodeJS.ErrnoException
    if (err.code === 'ENOSPC' || err.code === 'EMFILE') options.onError(watchLimitError(err))
    else options.logger.warn(`file watcher: ${errorMessage(err)}`)
  })
  await new Promise<void>((resolve) => watcher.once('ready', resolve))
  return {
    close: () => {
      for (const timer of timers) clearTimeout(timer)
      return watcher.close()
    },
  }
}
