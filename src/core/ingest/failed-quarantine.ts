/**
 * The failed-ingestion file's framing and its quarantine. A line is an entry only once its newline is on disk:
 * an append cut short (disk full, a crash mid-write) leaves a fragment without one, and the next append would
 * glue its entry onto the fragment and lose both. So, under the appenders' lock, the next append first cuts
 * such a torn tail off and moves it to the quarantine file (`<file>.quarantine`, one JSON line per bad line,
 * with the reason and when), and `retry-failed` moves the invalid lines it reads there too, so they are
 * counted once and never kept in the replay file forever.
 *
 * Callers hold the failed-ingestion file's lock. Throws the file system's errors (a quarantine that cannot be
 * written leaves the failed-ingestion file as it was).
 */
import {closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync} from 'node:fs'

export interface QuarantinedLine {
  raw: string
  reason: string
}

/** Where the bad lines of a failed-ingestion file go. */
export function quarantineFileFor(file: string): string {
  return `${file}.quarantine`
}

/**
 * Cut a torn last line (bytes after the last newline) off the file and quarantine it. Returns the fragment
 * cut, or undefined when the file is absent, empty or ends with a newline.
 */
export function cutTornTail(file: string, clock: () => Date = () => new Date()): string | undefined {
  let fd: number
  try {
    fd = openSync(file, 'r+')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const size = fstatSync(fd).size
    if (size === 0 || lastByte(fd, size) === 0x0a) return undefined
    const keep = lastNewlineEnd(fd, size)
    const fragment = Buffer.alloc(size - keep)
    readSync(fd, fragment, 0, fragment.length, keep)
    const raw = fragment.toString('utf8')
    // The fragment is safe in the quarantine before it leaves the file.
    quarantine(file, [{raw, reason: 'torn last line (an append cut short)'}], clock)
    ftruncateSync(fd, keep)
    fsyncSync(fd)
    return raw
  } finally {
    closeSync(fd)
  }
}

/** Append bad lines to the quarantine file, fsync'd; a torn tail of the quarantine itself is ended first. */
export function quarantine(file: string, lines: QuarantinedLine[], clock: () => Date = () => new Date()): void {
  if (lines.length === 0) return
  const at = clock().toISOString()
  const fd = openSync(quarantineFileFor(file), 'a+')
  try {
    const size = fstatSync(fd).size
    const lead = size > 0 && lastByte(fd, size) !== 0x0a ? '\n' : ''
    const text =
      lead + lines.map((l) => `${JSON.stringify({quarantinedAt: at, reason: l.reason, raw: l.raw})}\n`).join('')
    const data = Buffer.from(text)
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * The path and op time a fragment names, when its start survived (entries begin with v, id, path, opTime):
 * a torn retraction must still supersede the older entries of its path, or their replay resurrects a file
 * deleted since.
 */
export function fragmentOp(raw: string): {path: string; opTime: string} | undefined {
  const m = /^\{"v":1,"id":"[^"]*","path":("(?:[^"\\]|\\.)*"),"opTime":"([^"]+)"/.exec(raw)
  if (!m?.[1] || m[2] === undefined) return undefined
  try {
    const path: unknown = JSON.parse(m[1])
    return typeof path === 'string' ? {path, opTime: m[2]} : undefined
  } catch {
    return undefined
  }
}

function lastByte(fd: number, size: number): number {
  const b = Buffer.alloc(1)
  readSync(fd, b, 0, 1, size - 1)
  return b[0] ?? 0
}

/** The offset just past the last newline (0 when there is none), reading backwards in blocks. */
function lastNewlineEnd(fd: number, size: number): number {
  const block = Buffer.alloc(64 * 1024)
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - block.length)
    const n = readSync(fd, block, 0, end - start, start)
    const at = block.subarray(0, n).lastIndexOf(0x0a)
    if (at !== -1) return start + at + 1
    end = start
  }
  return 0
}
