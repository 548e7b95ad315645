/**
 * The Batcher turns file events into batches (FEATURE_BATCHING).
 *
 * On: events are deduplicated by path (the last one wins, so an unlink followed by an add of the same path
 * is one change), and a batch is ready when BATCH_SIZE_THRESHOLD paths are pending or when the debounce
 * window that opened with the oldest pending event has ended. Off: every event goes through at once, one at
 * a time, in arrival order, without deduplication (the runbook's baseline).
 *
 * Switching it off flushes what is pending first. The consumer pulls with `next()`; `close()` wakes it.
 *
 * Cost: a push is O(1) and a batch O(batch size), whatever the backlog (a first scan of a 200k-file
 * monorepo queues every file at once). Pending paths wait in a queue in the order of their first sighting,
 * so the oldest pending event is always at its head and the debounce window never needs a scan. (A Map's own
 * order is not enough: V8 leaves deleted entries as holes that every new iteration skips, which made draining
 * 1M events in batches of 50 quadratic, 43 s.)
 */

export type FileOp = 'upsert' | 'remove'

export interface FileEvent {
  op: FileOp
  relPath: string
  /** When the event was seen (ms, the batcher's clock): the start of its end-to-end latency. */
  at: number
}

export interface BatcherOptions {
  enabled: boolean
  batchSize: number
  debounceMs: number
  now?: () => number
}

/** A FIFO with O(1) shift: a head index over an array, compacted once the consumed half dominates. */
class Queue<T> {
  private items: T[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  peek(): T | undefined {
    return this.items[this.head]
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.head++
    if (this.head > 1024 && this.head * 2 > this.items.length) this.compact()
    return item
  }

  /** Put items in front, in their order (batching switched off: what was pending goes first). */
  prepend(items: Iterable<T>): void {
    this.items = Array.from(items).concat(this.items.slice(this.head))
    this.head = 0
  }

  takeAll(): T[] {
    const all = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return all
  }

  private compact(): void {
    this.items = this.items.slice(this.head)
    this.head = 0
  }
}

export class Batcher {
  private readonly pending = new Map<string, FileEvent>()
  /** The pending paths, each once, in the order of their first sighting. */
  private readonly order = new Queue<string>()
  private readonly fifo = new Queue<FileEvent>()
  private windowStart: number | undefined
  private waiter: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private readonly now: () => number

  constructor(private options: BatcherOptions) {
    this.now = options.now ?? (() => performance.now())
  }

  /** Events waiting to be taken. */
  get size(): number {
    return this.pending.size + this.fifo.length
  }

  get isClosed(): boolean {
    return this.closed
  }

  push(op: FileOp, relPath: string): void {
    if (this.closed) return
    const event: FileEvent = {op, relPath, at: this.now()}
    if (!this.options.enabled) {
      this.fifo.push(event)
    } else {
      const previous = this.pending.get(relPath)
      // Keep the first sighting's time (and place in line) so latency counts from when the path first became
      // dirty.
      this.pending.set(relPath, previous ? {...event, at: previous.at} : event)
      if (!previous) this.order.push(relPath)
      this.windowStart ??= event.at
    }
    this.wake()
  }

  /** Change batching live. Turning it off moves what is pending to the front of the one-by-one queue. */
  configure(options: Omit<BatcherOptions, 'now'>): void {
    const wasEnabled = this.options.enabled
    this.options = {...options, now: this.now}
    if (wasEnabled && !options.enabled) {
      this.fifo.prepend(this.takePending(this.pending.size))
      this.windowStart = undefined
    }
    this.wake()
  }

  /** Take everything pending at once (shutdown, tests). */
  drain(): FileEvent[] {
    const all = this.fifo.takeAll()
    for (const event of this.takePending(this.pending.size)) all.push(event)
    this.windowStart = undefined
    return all
  }

  /** The next batch, waiting until one is ready; an empty array once closed and drained. */
  async next(): Promise<FileEvent[]> {
    for (;;) {
      const batch = this.take()
      if (batch.length > 0) return batch
      if (this.closed) return []
      await new Promise<void>((resolve) => {
        this.waiter = resolve
        this.arm()
      })
    }
  }

  close(): void {
    this.closed = true
    this.wake()
  }

  private take(): FileEvent[] {
    const first = this.fifo.shift()
    if (first) return [first]
    if (this.pending.size === 0) return []
    const full = this.pending.size >= this.options.batchSize
    const windowOver = this.windowStart !== undefined && this.now() - this.windowStart >= this.options.debounceMs
    if (!full && !windowOver && !this.closed) return []
    const batch = this.takePending(this.options.batchSize)
    // What remains opens a new window; its events have already waited, so count from the oldest.
    const head = this.order.peek()
    this.windowStart = head === undefined ? undefined : this.pending.get(head)?.at
    return batch
  }

  /** Up to `max` pending events, oldest first sighting first. */
  private takePending(max: number): FileEvent[] {
    const batch: FileEvent[] = []
    while (batch.length < max) {
      const path = this.order.shift()
      if (path === undefined) break
      const event = this.pending.get(path)
      this.pending.delete(path)
      if (event) batch.push(event)
    }
    return batch
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.windowStart === undefined) return
    const wait = Math.max(0, this.windowStart + this.options.debounceMs - this.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.wake()
    }, wait)
  }

  private wake(): void {
    const waiter = this.waiter
    this.waiter = undefined
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    waiter?.()
  }
}
