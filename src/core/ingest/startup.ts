/**
 * What the service derives from its settings at start and at every flag change, kept out of the wiring: the
 * batcher's options (batching off is one file per batch, no window), the lines it logs when it starts, and the
 * OpenLineage emitter when LINEAGE_OPENLINEAGE_URL is set.
 */
import type {Registry} from 'prom-client'

import {safeUri} from '../graph/neo4j-errors.js'
import type {Logger} from '../logger.js'
import {lineageNamespace, settingsNamespace} from '../ops/namespace.js'
import {FEATURES, type Settings} from '../ops/settings.js'
import {OpenLineageEmitter} from './openlineage-observer.js'

export const batching = (s: Settings) =>
  s.features.batching
    ? {enabled: true, batchSize: s.batchSize, debounceMs: s.debounceMs}
    : {enabled: false, batchSize: 1, debounceMs: 0}

/** The start-up lines: what is watched, which features are on, where the metrics are (if served). */
export function startupLines(s: Settings, metricsPort: number | undefined): string[] {
  const lines: string[] = []
  if (!s.neo4j) {
    lines.push(
      'graph is off: NEO4J_URI is not set. Lineage goes to the output folder only; set NEO4J_URI (and NEO4J_USER, NEO4J_PASSWORD) to write the graph.',
    )
  } else {
    lines.push(`graph: ${safeUri(s.neo4j.uri)}, namespace ${settingsNamespace(s)} (LINEAGE_NAMESPACE sets it)`)
  }
  const on = FEATURES.filter((f) => s.features[f])
  lines.push(
    `lineage watch: ${s.rawDir} -> ${s.outDir}; features on: ${on.length > 0 ? on.join(', ') : 'none (baseline)'}; ` +
      `workers ${s.features.parallel ? s.workers : 1}, batch ${s.features.batching ? s.batchSize : 1}` +
      (metricsPort !== undefined ? `; metrics on http://${s.metrics.host}:${metricsPort}/metrics` : ''),
  )
  return lines
}

/** The OpenLineage emitter `watch` sends each ingested file's event to, when a URL is set; says where. */
export async function openLineageFor(
  s: Settings,
  logger: Logger,
  registry: Registry,
): Promise<OpenLineageEmitter | undefined> {
  const {url, namespace} = s.openLineage
  if (url === undefined) return undefined
  const {rawDir, outDir} = s
  const emitter = await OpenLineageEmitter.create({
    url,
    namespace: lineageNamespace({setting: namespace, rawDir}),
    ...{rawDir, outDir, logger, registry},
  })
  logger.info(`OpenLineage: one event per ingested file to ${emitter.endpoint.display}, namespace ${emitter.namespace}`)
  return emitter
}
