/**
 * The bench's report: its types (the `--json` shape is a contract: add fields, never rename or remove one)
 * and the arithmetic that turns a step's raw measurements into them. Pure; no I/O.
 */
import type {ExpectedFile} from './workload.js'
import type {Feature, IngestStats, LedgerRow} from '../core/index.js'

export interface BenchStep {
  name: string
  /** File changes of the workload (every file written or deleted counts once) per minute of wall time. */
  filesPerMinute: number
  /** Time from a file's event (after the watcher saw its size settle) to its graph write and ledger row. */
  p50Ms: number
  p95Ms: number
  /** CPU of the whole process, worker threads included (Neo4j's own is `neo4jCpuSeconds`). */
  cpuSeconds: number
  peakRssMb: number
  /** Hits over lookups; null when the parse cache is off. */
  cacheHitRate: number | null
  transactions: number
  /** The baseline's wall time over this step's. */
  speedup: number
  /** Files of the corpus per second of the initial ingest (the phase the parse ceiling is comparable with). */
  initialFilesPerSecond: number
  /**
   * `initialFilesPerSecond` over the parse ceiling's files per second (a fraction: 0.85 is 85%), the share of
   * the machine's parse capacity the pipeline delivered; null only when no ceiling was measured.
   */
  ceilingRatio: number | null
  summary: string
  features: Record<Feature, boolean>
  workers: number
  batchSize: number
  debounceSeconds: number
  /** Wall time of the workload: the initial ingest plus the burst, each until everything settled. */
  seconds: number
  initialSeconds: number
  burstSeconds: number
  /** CPU of the Neo4j server during the step, when it reports it (JMX); null otherwise. */
  neo4jCpuSeconds: number | null
  /**
   * `neo4jCpuSeconds` per file the step ingested or removed, in ms: what one file costs the graph server (the
   * issue's measure for the graph writes; null without it).
   */
  neo4jCpuMsPerFile: number | null
  /** Files parsed or found unchanged, as the ingestor counts them (deduplicated events count once). */
  filesIngested: number
  unchanged: number
  removed: number
  parseFailures: number
  graphFailures: number
  batches: number
  parsedInPool: number
  parsedInline: number
  /** Whether the graph and the output folder equal the baseline's (null for the baseline itself). */
  matchesBaseline: boolean | null
  differences: string[]
}

export interface BenchWorkload {
  source: string
  files: number
  bytes: number
  seed: number
  /** Files written or deleted in all: the corpus plus every action of the burst. */
  fileChanges: number
  burst: {resaved: number; edited: number; rapid: number; rapidSaves: number; rapidUndone: number; deleted: number}
  description: string
}

export interface BenchMachine {
  cpus: number
  cpuModel: string
  memoryGb: number
  node: string
  platform: string
  /** 1, 5 and 15 minute load averages when the bench started and when it ended (others' load skews it). */
  loadAverageAtStart: number[]
  loadAverage: number[]
}

/**
 * The parse ceiling (ceiling.ts), measured once per run on the same corpus: the files already in memory,
 * `threads` worker threads (the available parallelism) doing nothing but the extraction.
 */
export interface BenchCeiling {
  threads: number
  files: number
  seconds: number
  filesPerSecond: number
}

export interface BenchReport {
  /** The first line of the human report: whether the graph step ran. */
  headline: string
  graph: boolean
  steps: BenchStep[]
  /** All on against the baseline; null when the all-on step was not run. */
  speedup: number | null
  minSpeedup: number | null
  ok: boolean
  problems: string[]
  workload: BenchWorkload
  /** What every step's `ceilingRatio` is relative to. */
  ceiling: BenchCeiling
  machine: BenchMachine
  /** Where the work folder was kept (--keep, or after a failure); null when it was removed. */
  keptAt: string | null
}

/** The measurements of one step, as runBench collects them. */
export interface StepMeasure {
  seconds: number
  initialSeconds: number
  burstSeconds: number
  cpuSeconds: number
  neo4jCpuSeconds: number | null
  peakRssBytes: number
  stats: IngestStats
  /** Per file, from its event to its ledger row (ms). */
  latenciesMs: readonly number[]
  parsedInPool: number
  parsedInline: number
}

/** Nearest-rank percentile (p in 0..100); 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] ?? 0
}

const round = (n: number, digits: number): number => {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** The paths whose ledger row does not yet show their final content (or that should be gone and are not). */
export function unsettled(
  expected: ReadonlyMap<string, ExpectedFile>,
  gone: Iterable<string>,
  rows: ReadonlyMap<string, LedgerRow>,
): string[] {
  const out: string[] = []
  for (const [path, want] of expected) {
    const row = rows.get(path)
    const hashOk = row !== undefined && (row.contentHash === want.contentHash || row.contentHash.startsWith('unread:'))
    if (!row || !hashOk || row.size !== want.size || row.mtimeMs !== want.mtimeMs) out.push(path)
  }
  for (const path of gone) if (rows.has(path)) out.push(path)
  return out
}

export interface StepIdentity {
  name: string
  summary: string
  features: Record<Feature, boolean>
  workers: number
  batchSize: number
  debounceSeconds: number
}

/** The ceiling as the report shows it (rounded). */
export function summarizeCeiling(c: BenchCeiling): BenchCeiling {
  return {threads: c.threads, files: c.files, seconds: round(c.seconds, 3), filesPerSecond: round(c.filesPerSecond, 1)}
}

/**
 * Turn a step's measurements into its report row. `baselineSeconds` undefined: this is the baseline.
 * `initial`: the corpus's file count and the parse ceiling, for the initial ingest's rate and ratio.
 */
export function summarizeStep(
  step: StepIdentity,
  m: StepMeasure,
  fileChanges: number,
  baselineSeconds: number | undefined,
  initial?: {files: number; ceiling: Pick<BenchCeiling, 'filesPerSecond'> | undefined},
): BenchStep {
  const s = m.stats
  const lookups = s.cacheHits + s.cacheMisses
  const initialRate = initial && m.initialSeconds > 0 ? initial.files / m.initialSeconds : 0
  const ceilingRate = initial?.ceiling?.filesPerSecond ?? 0
  return {
    name: step.name,
    filesPerMinute: round(m.seconds > 0 ? fileChanges / (m.seconds / 60) : 0, 1),
    p50Ms: Math.round(percentile(m.latenciesMs, 50)),
    p95Ms: Math.round(percentile(m.latenciesMs, 95)),
    cpuSeconds: round(m.cpuSeconds, 2),
    peakRssMb: round(m.peakRssBytes / (1024 * 1024), 1),
    cacheHitRate: step.features['parse-cache'] ? round(lookups > 0 ? s.cacheHits / lookups : 0, 3) : null,
    transactions: s.transactions,
    speedup: round(baselineSeconds === undefined || m.seconds <= 0 ? 1 : baselineSeconds / m.seconds, 2),
    initialFilesPerSecond: round(initialRate, 1),
    ceilingRatio: ceilingRate > 0 ? round(initialRate / ceilingRate, 3) : null,
    summary: step.summary,
    features: step.features,
    workers: step.workers,
    batchSize: step.batchSize,
    debounceSeconds: step.debounceSeconds,
    seconds: round(m.seconds, 2),
    initialSeconds: round(m.initialSeconds, 2),
    burstSeconds: round(m.burstSeconds, 2),
    neo4jCpuSeconds: m.neo4jCpuSeconds === null ? null : round(m.neo4jCpuSeconds, 2),
    neo4jCpuMsPerFile:
      m.neo4jCpuSeconds === null || s.files + s.removed === 0
        ? null
        : round((m.neo4jCpuSeconds * 1000) / (s.files + s.removed), 1),
    filesIngested: s.files,
    unchanged: s.unchanged,
    removed: s.removed,
    parseFailures: s.failed,
    graphFailures: s.graphFailures,
    batches: s.batches,
    parsedInPool: m.parsedInPool,
    parsedInline: m.parsedInline,
    matchesBaseline: baselineSeconds === undefined ? null : true,
    differences: [],
  }
}

/** The problems that fail the command: differing steps, failed graph writes, a speedup under the minimum. */
export function judge(steps: readonly BenchStep[], speedup: number | null, minSpeedup: number | null): string[] {
  const problems: string[] = []
  for (const s of steps) {
    if (s.matchesBaseline === false) {
      problems.push(`step ${s.name} differs from the baseline: ${s.differences.join('; ')}`)
    }
  }
  if (minSpeedup !== null && speedup !== null && speedup < minSpeedup) {
    problems.push(
      `all-on is ${speedup.toFixed(1)}x the baseline, below --min-speedup ${minSpeedup}: a performance regression`,
    )
  }
  return problems
}
