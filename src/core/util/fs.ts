/**
 * Small file-system helpers shared by the core: the one atomic write (write-file-atomic: temp file, optional
 * fsync, rename, so a reader or a crash never sees half a file), the fsync of a folder after a rename,
 * content hashing and a recursive file listing. Throws the file system's errors as they are.
 */
import {createHash} from 'node:crypto'
import {closeSync, type Dirent, fsyncSync, mkdirSync, openSync, readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

import type writeFileAtomicModule from 'write-file-atomic'

const require = createRequire(import.meta.url)
// Loaded on the first write, not at import: every command imports this module, few write a file.
let atomic: typeof writeFileAtomicModule | undefined

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * Write a file so that it is either the old or the new content, never a mix, even after a crash; the folder is
 * created when missing. Synchronous on purpose: outputs are written inside worker threads, and the callers that
 * write small state files have nothing else to do meanwhile. `fsync: false` (outputs, heartbeats: re-creatable)
 * skips the flush to disk; the rename still keeps the file whole. The temp file is `<file>.<number>` beside it
 * (write-file-atomic's name), removed on failure and on a normal exit; a killed writer may leave one.
 */
export function writeFileAtomic(file: string, data: string | Buffer, options: {fsync?: boolean} = {}): void {
  mkdirSync(dirname(file), {recursive: true})
  atomic ??= require('write-file-atomic') as typeof writeFileAtomicModule
  atomic.sync(file, data, {fsync: options.fsync !== false})
}

/** Flush a folder's entries (a rename or an unlink in it) to disk. Best effort: some file systems refuse it. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // the data itself is synced; the folder entry follows at the next flush
  }
}

/** True when `child` is `parent` or inside it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  if (child === parent) return true
  const prefix = parent.endsWith('/') ? parent : `${parent}/`
  return child.startsWith(prefix)
}

export interface ListedFile {
  abs: string
  /** Relative to the root the listing started from. */
  rel: string
  /** What readdir said of it: a file, a symlink (not followed), a FIFO... never a directory. */
  entry: Dirent
}

interface ListOptions {
  skipDotNames?: boolean
  onUnreadable?: (dir: string, error: unknown) => void
}

/**
 * Every entry below root that is not a directory (symlinks are listed, not followed). `skipDotNames` passes
 * over dotfiles and dot-folders; a folder that cannot be read is passed over, and reported to `onUnreadable`.
 */
export function listFiles(root: string, options: ListOptions = {}): ListedFile[] {
  const found: ListedFile[] = []
  eachFile(root, options, (file) => found.push(file))
  return found
}

/**
 * listFiles one entry at a time, in the same order, for a caller that keeps less than every entry (the start-up
 * reconcile at 200,000 files). A callback, not a generator: at that size a generator's `yield*` per folder level
 * cost more than the walk saved. `rel` is the entry names joined, not path.relative of each, which cost a third
 * of the walk's time.
 */
export function eachFile(root: string, options: ListOptions, visit: (file: ListedFile) => void): void {
  const walk = (dir: string, relDir: string): void => {
    let entries: Dirent[]
    try {
      entries = readdirSync(dir, {withFileTypes: true})
    } catch (error) {
      options.onUnreadable?.(dir, error)
      return
    }
    for (const entry of entries) {
      if (options.skipDotNames && entry.name.startsWith('.')) continue
      const abs = join(dir, entry.name)
      const rel = relDir === '' ? entry.name : join(relDir, entry.name)
      if (entry.isDirectory()) walk(abs, rel)
      else visit({abs, rel, entry})
    }
  }
  walk(root, '')
}
