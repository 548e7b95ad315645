/**
 * The configurations `lineage bench` measures, in order: the baseline (all five features off, 1 worker,
 * batch 1, no debounce), then each feature added in the runbook's re-enable order (parse cache, batching,
 * Neo4j batch, parallel), each with its default tuning, then all on (metrics too) with the default tuning.
 * Cheap to import (no service, no driver): the command's flag definitions use it.
 */
import {FEATURES, type Feature, LineageError, type SettingKey, settingSpec} from '../core/index.js'

export const BENCH_STEPS = ['baseline', 'parse-cache', 'batching', 'neo4j-batch', 'parallel', 'all-on'] as const
export type BenchStepName = (typeof BENCH_STEPS)[number]

export interface StepConfig {
  name: BenchStepName
  /** What the step runs, for the report. */
  summary: string
  features: Record<Feature, boolean>
  workers: number
  batchSize: number
  debounceSeconds: number
}

const ADDED: {name: BenchStepName; feature: Feature; label: string}[] = [
  {name: 'parse-cache', feature: 'parse-cache', label: 'parse cache'},
  {name: 'batching', feature: 'batching', label: 'batching'},
  {name: 'neo4j-batch', feature: 'neo4j-batch', label: 'Neo4j batch'},
  {name: 'parallel', feature: 'parallel', label: 'parallel'},
]

const defaultOf = (key: SettingKey): number => settingSpec(key).default as number

function tuning(c: Pick<StepConfig, 'workers' | 'batchSize' | 'debounceSeconds'>): string {
  const debounce = c.debounceSeconds === 0 ? 'no debounce' : `debounce ${c.debounceSeconds} s`
  return `${c.workers} worker${c.workers === 1 ? '' : 's'}, batch ${c.batchSize}, ${debounce}`
}

/** Every configuration, in the order they run. */
export function stepConfigs(): StepConfig[] {
  const off = Object.fromEntries(FEATURES.map((f) => [f, false])) as Record<Feature, boolean>
  const defaults = {
    workers: defaultOf('INGEST_WORKERS'),
    batchSize: defaultOf('BATCH_SIZE_THRESHOLD'),
    debounceSeconds: defaultOf('DEBOUNCE_WINDOW_SECONDS'),
  }
  let current: StepConfig = {
    name: 'baseline',
    summary: '',
    features: off,
    workers: 1,
    batchSize: 1,
    debounceSeconds: 0,
  }
  current.summary = `all features off, ${tuning(current)}`
  const configs = [current]
  const labels: string[] = []
  for (const add of ADDED) {
    labels.push(add.label)
    const next: StepConfig = {...current, name: add.name, features: {...current.features, [add.feature]: true}}
    // A feature brings its own tuning: batching its batch size and window, parallel its pool.
    if (add.feature === 'batching') {
      next.batchSize = defaults.batchSize
      next.debounceSeconds = defaults.debounceSeconds
    }
    if (add.feature === 'parallel') next.workers = defaults.workers
    next.summary = `${labels.join(' + ')}; ${tuning(next)}`
    configs.push(next)
    current = next
  }
  const on = Object.fromEntries(FEATURES.map((f) => [f, true])) as Record<Feature, boolean>
  const all: StepConfig = {name: 'all-on', summary: '', features: on, ...defaults}
  all.summary = `all five features on (metrics too), default tuning: ${tuning(all)}`
  configs.push(all)
  return configs
}

/**
 * The configurations to run for `--steps`: the baseline always (every step is compared with it), then the
 * named ones in their fixed order. Throws a usage error (64) for an unknown name.
 */
export function selectSteps(names: readonly string[] | undefined): StepConfig[] {
  const all = stepConfigs()
  if (names === undefined || names.length === 0) return all
  const unknown = names.filter((n) => !(BENCH_STEPS as readonly string[]).includes(n))
  if (unknown.length > 0) {
    throw new LineageError(
      'E_USAGE',
      `unknown bench step: ${unknown.join(', ')}`,
      `Steps are: ${BENCH_STEPS.join(', ')}.`,
    )
  }
  return all.filter((c) => c.name === 'baseline' || names.includes(c.name))
}
