/**
 * Watching the folder of SQL files (chokidar) and scanning it (the start-up reconcile).
 *
 * Only files with a configured extension count; dotfiles and dot-folders are ignored, and so is a symlink
 * whose target lies outside the watched folder (it is untrusted: it could expose any file on the host).
 * A file is reported only once its size has settled, so a half-written file is never parsed; anything but a
 * regular file (a FIFO, a socket, a device) is ignored, since reading it could block forever. An exhausted
 * inotify watch limit becomes a LineageError that names the sysctl to raise.
 */
import {realpathSync, rmSync, statSync} from 'node:fs'
import {extname, relative, sep} from 'node:path'

import type {FSWatcher} from 'chokidar'

import {errorMessage, LineageError} from '../errors.js'
import {isInside, listFiles} from '../util/fs.js'
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

export interface FileStat {
  size: number
  mtimeMs: number
}

/** True for a path (relative to the folder) the service ingests: right extension, no dot segment. */
export function isWatchedPath(relPath: string, extensions: readonly string[]): boolean {
  if (relPath === '' || relPath.startsWith('..')) return false
  if (relPath.split(sep).some((part) => part.startsWith('.'))) return false
  return extensions.includes(extname(relPath).toLowerCase())
}

/** For a symlink: does it resolve to a file inside the folder? Plain files are always inside. */
function resolvesInside(realRoot: string, absPath: string): boolean {
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

/** Every watched file of the folder with its size and mtime, for the reconcile. */
export function scanFolder(rawDir: string, extensions: readonly string[], logger: Logger): Map<string, FileStat> {
  const found = new Map<string, FileStat>()
  const realRoot = realpathSync(rawDir)
  const listed = listFiles(rawDir, {
    skipDotNames: true,
    onUnreadable: (dir, error) => {
      logger.warn(`cannot list ${dir}: ${errorMessage(error)}`)
    },
  })
  for (const {abs, rel, entry} of listed) {
    if (!isWatchedPath(rel, extensions)) continue
    if (entry.isSymbolicLink() && !resolvesInside(realRoot, abs)) {
      logger.warn(`ignoring symlink that leads outside the watched folder: ${rel}`)
      continue
    }
    try {
      const st = statSync(abs)
      if (st.isFile()) found.set(rel, {size: st.size, mtimeMs: st.mtimeMs})
    } catch {
      // vanished while scanning: the watcher reports it
    }
  }
  return found
}

const OUTPUT_SUFFIX = '.lineage.json'
/**
 * An output being written by util/fs writeFileAtomic: `<out>.lineage.json.<number>` (write-file-atomic), or
 * `.<pid>.<hex>.tmp` from releases before it. The name no longer tells the writer's pid, so its age does: a
 * temp file lives for the milliseconds of one write, and one older than this process was left by a writer
 * that died (a running writer's temp file from before our start is long renamed by the time we look).
 */
const OUTPUT_TEMP = /\.lineage\.json\.\d+(\.[0-9a-f]+\.tmp)?$/

/**
 * The files whose lineage is in the output folder (`<rel>.lineage.json` -> rel), for the reconcile: one
 * whose file is gone and that the ledger does not know was written by a run killed before its ledger row
 * landed, and must be retracted. Temp files left by a writer that died mid-write are removed.
 */
export function scanOutputs(outDir: string, logger: Logger): Set<string> {
  const found = new Set<string>()
  // An output folder that cannot be listed (none yet) has no outputs.
  for (const {abs, rel, entry} of listFiles(outDir)) {
    if (!entry.isFile()) continue
    if (rel.endsWith(OUTPUT_SUFFIX)) {
      found.add(rel.slice(0, -OUTPUT_SUFFIX.length))
      continue
    }
    if (OUTPUT_TEMP.test(entry.name) && olderThanThisProcess(abs)) {
      logger.debug(`removing ${rel}, left by a writer that died`)
      rmSync(abs, {force: true})
    }
  }
  return found
}

function olderThanThisProcess(file: string): boolean {
  try {
    return statSync(file).mtimeMs < performance.timeOrigin
  } catch {
    return false // renamed or removed meanwhile
  }
}

function watchLimitError(error: NodeJS.ErrnoException): LineageError {
  return new LineageError(
    'E_WATCH_LIMIT',
    `the system limit on file watches is exhausted (${error.code ?? 'ENOSPC'})`,
    'Raise it with "sudo sysctl fs.inotify.max_user_watches=524288" (persist it in /etc/sysctl.d/), or run watch with --poll.',
  )
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
    options.onEvent(op, rel)
  }
  watcher.on('add', report('upsert'))
  watcher.on('change', report('upsert'))
  watcher.on('unlink', report('remove'))
  watcher.on('error', (error: unknown) => {
    const err = error as NodeJS.ErrnoException
    if (err.code === 'ENOSPC' || err.code === 'EMFILE') options.onError(watchLimitError(err))
    else options.logger.warn(`file watcher: ${errorMessage(err)}`)
  })
  await new Promise<void>((resolve) => watcher.once('ready', resolve))
  return {close: () => watcher.close()}
}
