/**
 * Small file-system helpers shared by the core: atomic writes (temp file + fsync + rename, so a reader or
 * a crash never sees half a file), content hashing and a recursive file listing.
 */
import {createHash, randomBytes} from 'node:crypto'
import {
  closeSync,
  type Dirent,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import {dirname, join, relative} from 'node:path'

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Write a file so that it is either the old or the new content, never a mix, even after a crash. */
export function writeFileAtomic(file: string, data: string | Buffer, options: {fsync?: boolean} = {}): void {
  mkdirSync(dirname(file), {recursive: true})
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    if (options.fsync !== false) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    renameSync(tmp, file)
  } catch (error) {
    rmSync(tmp, {force: true})
    throw error
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

/**
 * Every entry below root that is not a directory (symlinks are listed, not followed). `skipDotNames` passes
 * over dotfiles and dot-folders; a folder that cannot be read is passed over, and reported to `onUnreadable`.
 */
export function listFiles(
  root: string,
  options: {skipDotNames?: boolean; onUnreadable?: (dir: string, error: unknown) => void} = {},
): ListedFile[] {
  const found: ListedFile[] = []
  const walk = (dir: string): void => {
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
      if (entry.isDirectory()) walk(abs)
      else found.push({abs, rel: relative(root, abs), entry})
    }
  }
  walk(root)
  return found
}
