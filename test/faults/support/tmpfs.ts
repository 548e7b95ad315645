/**
 * A small tmpfs for the disk-full scenarios (root only: `mount -t tmpfs`). Outside CI a test without root
 * skips with a loud message; under CI=true (root on a fresh machine) a missing mount fails the test.
 */
import {execFileSync} from 'node:child_process'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export interface Tmpfs {
  dir: string
  /** Fill the disk but `leaveBytes` (with a filler file); `free()` removes the filler. */
  fill(leaveBytes: number): void
  free(): void
  unmount(): void
}

/** Skip (or fail under CI) when this process cannot mount. */
export function requireRoot(ctx: Mocha.Context): void {
  if (process.getuid?.() === 0) return
  const why = 'needs root to mount a small tmpfs (disk-full scenario)'
  if (process.env.CI === 'true') throw new Error(`${why}: CI runs as root`)
  process.stderr.write(`\n  SKIPPED: ${why}\n`)
  ctx.skip()
}

export function mountTmpfs(dir: string, sizeBytes: number): Tmpfs {
  mkdirSync(dir, {recursive: true})
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir])
  const filler = join(dir, '.filler')
  let mounted = true
  return {
    dir,
    fill(leaveBytes) {
      const free = Number(execFileSync('df', ['--output=avail', '-B1', dir]).toString().trim().split('\n')[1])
      writeFileSync(filler, Buffer.alloc(Math.max(0, free - leaveBytes)))
    },
    free() {
      rmSync(filler, {force: true})
    },
    unmount() {
      if (!mounted) return
      execFileSync('umount', ['-l', dir])
      mounted = false
    },
  }
}
