/**
 * The damaged copies of a parse cache moved aside next to it (`<file>.corrupt-<time>`, each with its -wal and
 * -shm): the one listing of them, which `cache stats` shows and `cache clear` removes. Never throws for a
 * folder that cannot be read (no copies); `removeCorruptCopies` throws the file system's errors.
 */
import {readdirSync, rmSync, statSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

export interface CorruptCopy {
  file: string
  bytes: number
}

/** Every moved-aside copy of `cacheFile` (its -wal and -shm counted with it), sorted by name. */
export function corruptCopies(cacheFile: string): CorruptCopy[] {
  const dir = dirname(cacheFile)
  const prefix = `${basename(cacheFile)}.corrupt-`
  let names: string[]
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(prefix))
  } catch {
    return []
  }
  const size = (name: string): number => {
    try {
      return statSync(join(dir, name)).size
    } catch {
      return 0
    }
  }
  return names
    .filter((n) => !/-(wal|shm)$/.test(n))
    .sort()
    .map((n) => ({file: join(dir, n), bytes: size(n) + size(`${n}-wal`) + size(`${n}-shm`)}))
}

/** Remove the moved-aside copies; returns what was removed. */
export function removeCorruptCopies(cacheFile: string): CorruptCopy[] {
  const copies = corruptCopies(cacheFile)
  for (const c of copies) for (const f of [c.file, `${c.file}-wal`, `${c.file}-shm`]) rmSync(f, {force: true})
  return copies
}
