/**
 * When a bench phase is over: every file of the phase has its final ledger row (which the ingestor writes only
 * after the graph write landed), every deleted file has none, nothing is queued or in flight, and that held
 * for a moment. Samples the process's memory meanwhile and reports progress. Throws LineageError
 * E_INTERRUPTED (130) when the bench's signal aborts, E_INTERNAL (1) when files never settle.
 */
import {freemem} from 'node:os'

import type {BenchOptions} from './bench.js'
import {unsettled} from './report.js'
import type {ExpectedFile} from './workload.js'
import {LineageError, type ServiceHandle} from '../core/index.js'
import type {BenchObserver} from './observer.js'

const POLL_MS = 100
const PROGRESS_MS = 30_000

/** Waits until every file of a phase has settled, sampling memory as it goes. */
export class Settler {
  peakRss = 0

  constructor(
    private readonly service: ServiceHandle,
    private readonly seen: BenchObserver,
    private readonly step: string,
    private readonly options: BenchOptions,
    private readonly settleMs: number,
  ) {}

  /**
   * Resolves with the time (performance.now) the last batch of the phase ended, once every expected file
   * has its final ledger row, every gone file has none, nothing is queued or in flight, and that has held
   * for a moment (a late watcher event would show up in it).
   */
  async settle(
    phase: string,
    expected: ReadonlyMap<string, ExpectedFile>,
    gone: readonly string[],
    started: number,
  ): Promise<number> {
    const quietMs = this.settleMs + 300
    const stallMs = (this.options.stallSeconds ?? 120) * 1000
    const total = expected.size + gone.length
    let checkedBatches = -1
    let pending = total
    let pendingPaths: string[] = []
    let quietSince: number | undefined
    let lastActivity = performance.now()
    let lastProgress = performance.now()
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      if (this.options.signal?.aborted) {
        throw new LineageError('E_INTERRUPTED', 'bench interrupted')
      }
      this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss())
      const st = this.service.stats
      const now = performance.now()
      const busy = this.service.queueSize() > 0 || st.inFlight > 0
      if (busy || st.batches !== checkedBatches) lastActivity = now
      if (!busy && st.batches !== checkedBatches) {
        checkedBatches = st.batches
        pendingPaths = unsettled(expected, gone, this.seen.rows)
        pending = pendingPaths.length
        quietSince = pending === 0 ? now : undefined
      }
      // The phase ends with its last batch (not with this check); a phase with nothing to do takes no time.
      if (quietSince !== undefined && !busy && now - quietSince >= quietMs) return Math.max(st.lastBatchAt, started)
      if (!busy && pending > 0 && now - lastActivity > stallMs) {
        throw new LineageError(
          'E_INTERNAL',
          `bench step ${this.step} (${phase}): ${pending} file change(s) never reached the graph and the ledger ` +
            `(${pendingPaths.slice(0, 5).join(', ')}${pending > 5 ? ', ...' : ''}); nothing happened for ${stallMs / 1000} s`,
          'The service missed or failed these files: read the step log in the kept work folder.',
        )
      }
      if (now - lastProgress >= PROGRESS_MS) {
        lastProgress = now
        const left = unsettled(expected, gone, this.seen.rows).length
        const elapsed = (now - started) / 1000
        this.options.logger.info(
          `  ${phase}: ${total - left}/${total} settled after ${elapsed.toFixed(0)} s ` +
            `(${st.transactions.toLocaleString('en-US')} transactions, free memory ${(freemem() / 1024 ** 3).toFixed(1)} GB)`,
        )
      }
    }
  }
}
