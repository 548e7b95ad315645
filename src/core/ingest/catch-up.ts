/**
 * What a running service does to catch up after a fault without a restart: when Neo4j comes back (GraphHealth
 * `onRecovered`) it reconciles again, so every file whose graph write did not land (ledger `failed`) is
 * ingested again; and every OUTPUT_RETRY_MS it queues the files whose output a full disk refused
 * (FileOutcomes `dueOutputs`) until they are written. Throws nothing: a failed reconcile is logged.
 */
import {errorMessage} from '../errors.js'
import type {GraphHealth} from '../graph/health.js'
import type {Logger} from '../logger.js'

/** How often outputs a full disk refused are tried again (ms). */
export const OUTPUT_RETRY_MS = 5000

export interface CatchUpSource {
  health: GraphHealth | undefined
  stopping: () => boolean
  reconcile: () => void
  dueOutputs: () => string[]
  queue: (relPath: string) => void
  logger: Logger
}

/** Start catching up; returns the stop function. */
export function startCatchUp(source: CatchUpSource): () => void {
  source.health?.onRecovered(() => {
    if (source.stopping()) return
    try {
      source.reconcile()
    } catch (error) {
      source.logger.error(`reconcile after Neo4j came back failed: ${errorMessage(error)}`)
    }
  })
  const timer = setInterval(() => {
    if (source.stopping()) return
    for (const rel of source.dueOutputs()) source.queue(rel)
  }, OUTPUT_RETRY_MS).unref()
  return () => {
    clearInterval(timer)
  }
}
