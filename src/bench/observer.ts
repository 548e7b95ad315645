/**
 * What the bench learns from a running step through the service's observer hook (ServiceOptions.observer):
 * each file's latency from its event to its ledger row, where files were parsed (main thread or pool), and the
 * ledger rows as they are written, so a phase is known to be over without opening the service's ledger.
 */
import type {IngestObserver, LedgerRow} from '../core/index.js'

export class BenchObserver {
  readonly latenciesMs: number[] = []
  parsedInline = 0
  parsedInPool = 0
  /** The ledger as the service has written it: path to row (deleted rows removed). */
  readonly rows = new Map<string, LedgerRow>()
  readonly observer: IngestObserver = {
    parseStarted: (e) => {
      if (e.thread === 'main') this.parsedInline++
      else this.parsedInPool++
    },
    fileRecorded: (e) => {
      this.latenciesMs.push(e.latencyMs)
      if (e.row) this.rows.set(e.relPath, e.row)
      else this.rows.delete(e.relPath)
    },
  }
}
