/**
 * The service's background work besides ingesting events, started together and stopped together: catching up
 * after a fault (catch-up: the graph probe, the reconcile when Neo4j answers again, outputs and batches a full
 * disk refused) and parsing again, when idle, the files whose parse ran out of time (incomplete-retry).
 * Wiring only: each loop lives in its own module. Throws nothing.
 */
import type {GraphConnection} from '../graph/connection.js'
import type {Logger} from '../logger.js'
import type {Settings} from '../ops/settings.js'
import {startCatchUp} from './catch-up.js'
import {startIncompleteRetry} from './incomplete-retry.js'
import type {Ledger} from './ledger.js'

export interface BackgroundSource {
  graph: GraphConnection | undefined
  ledger: Pick<Ledger, 'incomplete'>
  settings: () => Settings
  stopping: () => boolean
  /** Nothing queued and nothing in flight. */
  idle: () => boolean
  reconcile: () => void
  /** Files to queue again (outputs not written, files of failed batches). */
  due: () => string[]
  queue: (relPath: string) => void
  report: (pending: number, exhausted: number) => void
  logger: Logger
}

/** Start both loops; returns the function that stops them. */
export function startBackground(source: BackgroundSource): () => void {
  const {graph, stopping, reconcile, due, queue, logger} = source
  const stopCatchUp = startCatchUp({graph, stopping, reconcile, due, queue, logger})
  const stopIncompleteRetry = startIncompleteRetry({
    baseMs: () => source.settings().parseTimeoutMs,
    intervalMs: () => source.settings().incompleteRetryMs,
    busy: () => !source.idle(),
    stopping,
    incomplete: () => source.ledger.incomplete(),
    queue,
    logger,
    report: source.report,
  })
  return () => {
    stopCatchUp()
    stopIncompleteRetry()
  }
}
