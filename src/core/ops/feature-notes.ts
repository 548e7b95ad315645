/** The runbook's words for each feature: what switching it off does, and what to watch afterwards. */
import type {Feature} from './settings.js'

/** What disabling each feature does, and what to watch afterwards. */
export const FEATURE_NOTES: Record<Feature, {effect: string[]; monitor: string}> = {
  parallel: {
    effect: ['Parsing goes back to one file at a time on the main thread; the worker pool is drained and stopped.'],
    monitor:
      'Watch whether the problem persists; expect roughly 2-3x baseline throughput with cache and batching still on.',
  },
  'neo4j-batch': {
    effect: ['Graph entities are written one transaction each instead of UNWIND batches.'],
    monitor: 'Watch the Neo4j connection and transaction logs, and neo4j_write_failures_total.',
  },
  batching: {
    effect: ['File events are processed as they come: no debounce, no de-duplication.'],
    monitor: 'Watch CPU use and how file events are handled (queue_size).',
  },
  'parse-cache': {
    effect: ['Every change is parsed again; the parse cache is not consulted. This is the baseline (1x).'],
    monitor: 'Confirm baseline behaviour: parse_cache_hits_total stops growing.',
  },
  metrics: {
    effect: ['Pipeline metrics are no longer collected; /metrics keeps only feature_flag_enabled and lineage_up.'],
    monitor: 'Dashboards lose the pipeline series until metrics are enabled again.',
  },
}
