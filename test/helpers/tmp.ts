import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/** A fresh temporary folder; remove it with the returned function. */
export function tmpDir(prefix = 'lineage-test-'): {dir: string; remove: () => void} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    dir,
    remove: () => {
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** Run fn with process.env extended by vars, restoring it afterwards. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k]
    if (v === undefined) Reflect.deleteProperty(process.env, k)
    else process.env[k] = v
  }
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k)
      else process.env[k] = v
    }
  }
}

/**
 * A fresh temporary folder for each test of the suite that calls this (mocha hooks, registered where it is
 * called); after each test `cleanup` runs (close a database, stop a service, reap a child process), then the
 * folder is removed.
 */
export function useTmpDir(options: {prefix?: string; cleanup?: () => unknown} = {}): {readonly dir: string} {
  const {prefix = 'lineage-test-', cleanup} = options
  let tmp: ReturnType<typeof tmpDir> | undefined
  beforeEach(() => {
    tmp = tmpDir(prefix)
  })
  afterEach(async () => {
    try {
      await cleanup?.()
    } finally {
      tmp?.remove()
      tmp = undefined
    }
  })
  return {
    get dir(): string {
      if (!tmp) throw new Error('useTmpDir: the folder exists only inside a test')
      return tmp.dir
    },
  }
}
