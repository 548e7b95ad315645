/**
 * The per-statement time budget, across a thread boundary. A grammar cannot be interrupted from inside its
 * thread (it is one synchronous call), so the thread that extracts marks each statement it starts in a small
 * shared memory block (StatementBeacon, in the worker: a few atomic stores, no message per statement), and
 * its supervisor (StatementWatch, on the thread that owns the worker) looks at the block a few times per
 * budget. A statement still running past its budget is reported once, with its span, and the supervisor
 * ends the worker (`worker.terminate()` interrupts any JavaScript) and parses the file again with that
 * statement left to the token scan (ExtractOptions.overBudget). Wall-clock time: a busy machine counts too.
 * Throws nothing.
 */
import type {StatementSpan} from '../sql/index.js'

/** Statements of one file that may run over the budget before the file is given up (each costs a budget). */
export const MAX_OVER_BUDGET = 8

/** Int32 slots: a counter bumped at every statement start, whether one is running, and its span. */
const SEQ = 0
const RUNNING = 1
const START = 2
const END = 3
const SLOTS = 4

/** The worker side: mark the statement being extracted (pass it as ExtractOptions.onStatement). */
export class StatementBeacon {
  private readonly cells: Int32Array

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer)
  }

  readonly mark = (span: StatementSpan | null): void => {
    if (span) {
      Atomics.store(this.cells, START, span.start)
      Atomics.store(this.cells, END, span.end)
      Atomics.store(this.cells, RUNNING, 1)
    } else {
      Atomics.store(this.cells, RUNNING, 0)
    }
    // Last, so a supervisor that sees the new count also sees the span written before it.
    Atomics.add(this.cells, SEQ, 1)
  }
}

/** The supervisor side: one per worker; `watch` while the worker has a file, `stop` when it is done with it. */
export class StatementWatch {
  readonly buffer = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT)
  private readonly cells = new Int32Array(this.buffer)
  private timer: NodeJS.Timeout | undefined

  /** `now` is injectable for tests; the budget is in milliseconds. */
  constructor(
    readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Look every quarter budget; `onOver` is called once, with the statement that ran over, then watching stops. */
  watch(onOver: (span: StatementSpan) => void): void {
    this.stop()
    Atomics.store(this.cells, RUNNING, 0)
    let seen = Atomics.load(this.cells, SEQ)
    let since = this.now()
    const tick = (): void => {
      const seq = Atomics.load(this.cells, SEQ)
      if (seq !== seen) {
        seen = seq
        since = this.now()
        return
      }
      if (Atomics.load(this.cells, RUNNING) !== 1 || this.now() - since < this.budgetMs) return
      this.stop()
      onOver({start: Atomics.load(this.cells, START), end: Atomics.load(this.cells, END)})
    }
    this.timer = setInterval(tick, Math.max(10, Math.min(250, this.budgetMs / 4)))
    // The worker keeps the process alive while it has work; the watch alone must not.
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
