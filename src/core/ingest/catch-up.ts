/**
 * What a running service does to catch up after a fault without a restart: while the graph is degraded it
 * probes Neo4j (GraphConnection `startProbe`), and when Neo4j comes back (GraphHealth `onRecovered`, by a
 * probe or a write) it reconciles again, so every file whose graph write did not land (ledger `failed`) is
 * ingested again; and every OUTPUT_RETRY_MS it queues the files whose output a full disk refused
 * and those of batches that failed as a whole (a full state disk), until they are written (Ingestor `due`). Throws nothing: a failed reconcile is logged.
 */
import {errorMessage} from '../errors.js'
import type {GraphConnection} from '../graph/connection.js'
import type {Logger} from '../logger.js'

/** How often outputs a full disk refused are tried again (ms). */
export const OUTPUT_RETRY_MS = 5000

export interface CatchUpSource {
  graph: Pick<GraphConnection, 'health' | 'startProbe'> | undefined
  stopping: () => boolean
  reconcile: () => void
  /** Files to queue again every OUTPUT_RETRY_MS (outputs not written, files of failed batches). */
  due: () => string[]
  queue: (relPath: string) => void
  logger: Logger
}

/** Start catching up; returns the stop function. */
export function startCatchUp(source: CatchUpSource): () => void {
  const stopProbe = source.graph?.startProbe()
  source.graph?.health.onRecovered(() => {
    if (source.stopping()) return
    try {
      source.reconcile()
    } catch (error) {
      source.logger.error(`reconcile after Neo4j came back failed: ${errorMessage(error)}`)
    }
  })
  const timer = setInterval(() => {
    if (source.stopping()) return
    for (const rel of source.due()) source.queue(rel)
  }, OUTPUT_RETRY_MS).unref()
  return () => {
    clearInterval(timer)
    stopProbe?.()
  }
}
