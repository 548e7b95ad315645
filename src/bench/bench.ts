/**
 * `lineage bench`: the real pipeline, in process and end to end, once per configuration (steps.ts), on
 * the same workload (workload.ts), each from an empty cache, ledger and state folder and an empty graph.
 *
 * First, once per run, the parse ceiling (ceiling.ts): the corpus already in memory, extracted by as many threads
 * as the machine has (the available parallelism), with nothing else. Each step's initial ingest is reported as
 * a share of it (`ceilingRatio`).
 *
 * A step starts the service in watch mode (startService, the core's public surface) on an empty watched folder,
 * copies the corpus in so that chokidar's events drive it, waits until every file has settled (the service
 * reported its ledger row with its final content, which it writes only after the graph write landed), then
 * plays the burst and waits again.
 * The clock runs from the first file written to the end of the last batch, per phase. Then its graph and its
 * output folder are compared with the baseline's: a faster wrong answer fails.
 *
 * Safety: the bench clears the graph before each step and at the end, so it refuses (usage error, 64) a graph
 * that is not empty unless `clearGraph`. It works in a temporary folder that it removes (unless `keep`, or a
 * step failed, when it says where it is), never in the configured data folders.
 *
 * Throws LineageError: E_USAGE (64) for bad options or a non-empty graph, E_CONFIG (78), E_NEO4J_UNAVAILABLE
 * (69), E_INTERRUPTED (130) when the signal aborts, E_INTERNAL (1) when a step never settles.
 */
import {availableParallelism, cpus, loadavg, totalmem, tmpdir} from 'node:os'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {type Ceiling, measureCeiling} from './ceiling.js'
import {BENCH_NAMESPACE, BenchGraph, compareDigests, type Digest, digestOutput} from './graph.js'
import {judge, type BenchReport, type BenchStep, type StepMeasure, summarizeCeiling, summarizeStep} from './report.js'
import {Settler} from './settle.js'
import {selectSteps, type StepConfig} from './steps.js'
import {
  type BenchFile,
  type BurstPlan,
  describeWorkload,
  expectFiles,
  finalState,
  loadCorpus,
  planBurst,
  playBurst,
  writeFiles,
} from './workload.js'
import {
  countFailures,
  errorMessage,
  FEATURE_ENV,
  FEATURES,
  LineageError,
  type Logger,
  resolveSettings,
  safeUri,
  type Settings,
  type SettingsInput,
  type SettingValue,
  startService,
} from '../core/index.js'
import {BenchObserver} from './observer.js'

export interface BenchOptions {
  /** A folder of SQL files, or the generated corpus. */
  corpus: {dir: string} | {files: number; seed: number}
  /** Seeds the burst (and the corpus when generated). */
  seed: number
  /** Steps to run besides the baseline; undefined: all. */
  steps?: readonly string[] | undefined
  /** Where NEO4J_* and the other settings come from (environment, --config). */
  settings: SettingsInput
  minSpeedup?: number | undefined
  clearGraph: boolean
  keep: boolean
  /** Progress lines (stderr in the CLI). */
  logger: Logger
  signal?: AbortSignal | undefined
  /** How long a file's size must stay unchanged before the watcher reports it (watch's --settle-ms). */
  settleMs?: number
  /** A step with nothing queued, nothing in flight and files still unsettled for this long is stuck. */
  stallSeconds?: number
  tmpRoot?: string
}

export const BENCH_SETTLE_MS = 300

interface Baseline {
  seconds: number
  graph: Digest | undefined
  output: Digest
}

/** Every folder and file of a service of its own under `dir`: watched, output, state, cache, failed file, log. */
export function isolatedFolders(dir: string): Record<string, string> {
  return {
    LINEAGE_RAW_DIR: join(dir, 'raw'),
    LINEAGE_OUT_DIR: join(dir, 'out'),
    LINEAGE_STATE_DIR: join(dir, 'state'),
    LINEAGE_CACHE_FILE: join(dir, 'cache', 'parse-cache.sqlite'),
    LINEAGE_FAILED_FILE: join(dir, 'failed_ingestion.jsonl'),
    LINEAGE_LOG_FILE: join(dir, 'logs', 'ingestion.log'),
  }
}

export interface StepRun {
  measure: StepMeasure
  graph: Digest | undefined
  output: Digest
  failedWrites: number
  failedFile: string
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const configs = selectSteps(options.steps)
  const wantsAllOn = configs.some((c) => c.name === 'all-on')
  if (options.minSpeedup !== undefined && !wantsAllOn) {
    throw new LineageError(
      'E_USAGE',
      '--min-speedup needs the all-on step',
      'Add all-on to --steps, or leave --steps out.',
    )
  }
  const settings = resolveSettings(options.settings)
  const files = loadCorpus(
    'dir' in options.corpus ? {dir: options.corpus.dir, extensions: settings.extensions} : options.corpus,
  )
  if (files.length === 0) {
    throw new LineageError(
      'E_USAGE',
      `no SQL files (${settings.extensions.join(', ')}) in ${'dir' in options.corpus ? options.corpus.dir : 'the corpus'}`,
      'Point --corpus at a folder of SQL files, or use --files N.',
    )
  }
  const plan = planBurst(files, options.seed)
  const loadAtStart = loadavg()
  const graph = settings.neo4j ? await openEmptyGraph(options, settings.neo4j) : undefined
  const headline = settings.neo4j
    ? `graph: on, Neo4j at ${safeUri(settings.neo4j.uri)} (cleared before each step)`
    : 'graph step is OFF: NEO4J_URI is not set, so nothing is written to Neo4j and the speedups leave out the graph writes'
  options.logger.info(headline)
  options.logger.info(`workload: ${describeWorkload(files, plan)}`)

  let tmp = ''
  let keep = options.keep
  const fileChanges = files.length + plan.actions.length
  const steps: BenchStep[] = []
  const problems: string[] = []
  let ceiling: Ceiling | undefined
  try {
    tmp = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'lineage-bench-'))
    ceiling = await runCeiling(files, settings, options)
    let baseline: Baseline | undefined
    for (const [i, config] of configs.entries()) {
      options.logger.info(`[${i + 1}/${configs.length}] ${config.name}: ${config.summary}`)
      await graph?.clear()
      const run = await runStep(config, join(tmp, `${i + 1}-${config.name}`), files, plan, graph, options)
      const step = summarizeStep(config, run.measure, fileChanges, baseline?.seconds, {files: files.length, ceiling})
      if (run.failedWrites > 0) {
        problems.push(`step ${config.name}: ${run.failedWrites} graph write(s) failed (see ${run.failedFile})`)
        keep = true
      }
      if (baseline) {
        const differences = [
          ...(baseline.graph && run.graph ? compare(run.graph, baseline.graph, 'graph') : []),
          ...compare(run.output, baseline.output, 'output'),
        ]
        step.matchesBaseline = differences.length === 0
        step.differences = differences
        if (differences.length > 0) keep = true
      } else {
        baseline = {seconds: run.measure.seconds, graph: run.graph, output: run.output}
      }
      steps.push(step)
      options.logger.info(
        `  ${step.seconds.toFixed(1)} s (${step.initialSeconds.toFixed(1)} s initial, ${step.burstSeconds.toFixed(1)} s burst), ` +
          `${step.filesPerMinute} files/min, ${step.speedup}x, initial ingest ${step.initialFilesPerSecond} files/s = ` +
          `${Math.round((step.ceilingRatio ?? 0) * 100)}% of the parse ceiling` +
          (step.neo4jCpuMsPerFile === null ? '' : `, Neo4j CPU ${step.neo4jCpuMsPerFile} ms per file`) +
          (step.matchesBaseline === null ? '' : step.matchesBaseline ? ', same result as the baseline' : ', DIFFERS'),
      )
    }
  } catch (error) {
    keep = true
    // Tidy up without hiding why the bench stopped.
    await closeGraph(graph, options.keep).catch((cleanup: unknown) => {
      options.logger.warn(errorMessage(cleanup))
    })
    throw error
  } finally {
    await closeGraph(graph, options.keep)
    if (keep && tmp !== '') options.logger.info(`work folder kept: ${tmp}`)
    else if (tmp !== '') rmSync(tmp, {recursive: true, force: true})
  }
  const allOn = steps.find((s) => s.name === 'all-on')
  const speedup = allOn ? allOn.speedup : null
  const minSpeedup = options.minSpeedup ?? null
  for (const p of judge(steps, speedup, minSpeedup)) problems.push(p)
  return {
    headline,
    graph: graph !== undefined,
    steps,
    speedup,
    minSpeedup,
    ok: problems.length === 0,
    problems,
    workload: {
      source: 'dir' in options.corpus ? options.corpus.dir : `generated (corpus.ts, seed ${options.corpus.seed})`,
      files: files.length,
      bytes: files.reduce((n, f) => n + f.content.length, 0),
      seed: options.seed,
      fileChanges,
      burst: {
        resaved: plan.files.resave,
        edited: plan.files.edit,
        rapid: plan.files.rapid,
        rapidSaves: plan.rapidSaves,
        rapidUndone: plan.rapidUndone,
        deleted: plan.files.delete,
      },
      description: describeWorkload(files, plan),
    },
    ceiling: summarizeCeiling(ceiling),
    machine: {...machine(), loadAverageAtStart: loadAtStart.map((n) => Math.round(n * 100) / 100)},
    keptAt: keep ? tmp : null,
  }
}

/**
 * The parse ceiling on the corpus (ceiling.ts), once per run, before the steps: the share of it that each
 * step's initial ingest reaches is the ratio the report gives.
 */
async function runCeiling(files: readonly BenchFile[], settings: Settings, options: BenchOptions): Promise<Ceiling> {
  const threads = availableParallelism()
  options.logger.info(
    `parse ceiling: ${files.length} files in memory, ${threads} thread${threads === 1 ? '' : 's'} (the available parallelism), extraction only`,
  )
  const ceiling = await measureCeiling(files, {
    dialect: settings.dialect,
    defaultDatabase: settings.defaultDatabase,
    defaultSchema: settings.defaultSchema,
    threads,
    signal: options.signal,
  })
  if (ceiling.files !== files.length) {
    throw new LineageError('E_INTERNAL', `the parse ceiling extracted ${ceiling.files} of ${files.length} files`)
  }
  options.logger.info(
    `  ${ceiling.filesPerSecond.toFixed(1)} files/s (${ceiling.seconds.toFixed(2)} s, ${ceiling.statements} statements)`,
  )
  return ceiling
}

function compare(got: Digest, want: Digest, what: 'graph' | 'output'): string[] {
  return compareDigests(got, want, what).map((d) => `${what}: ${d}`)
}

async function openEmptyGraph(options: BenchOptions, conn: NonNullable<Settings['neo4j']>): Promise<BenchGraph> {
  const graph = await BenchGraph.open(conn, options.logger)
  const nodes = await graph.nodeCount()
  if (nodes > 0 && !options.clearGraph) {
    await graph.close()
    throw new LineageError(
      'E_USAGE',
      `the Neo4j graph at ${safeUri(graph.uri)} is not empty (${nodes.toLocaleString('en-US')} nodes), and the bench deletes everything in it between steps`,
      'Point NEO4J_URI (or NEO4J_DATABASE) at a scratch database, or pass --clear-graph to let the bench delete its contents.',
    )
  }
  if (nodes > 0) options.logger.info(`--clear-graph: deleting the ${nodes} node(s) already in the graph`)
  return graph
}

async function closeGraph(graph: BenchGraph | undefined, keep: boolean): Promise<void> {
  if (!graph?.open) return
  try {
    if (!keep) await graph.clear()
  } catch (error) {
    throw new LineageError('E_NEO4J_WRITE', `could not clear the graph after the bench: ${errorMessage(error)}`)
  } finally {
    await graph.close()
  }
}

function machine(): Omit<BenchReport['machine'], 'loadAverageAtStart'> {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  }
}

/** The settings of one step: its features and tuning, and folders of its own under `dir`. */
function stepFlags(config: StepConfig, dir: string): Record<string, SettingValue> {
  const flags: Record<string, SettingValue> = {
    // One namespace for every step: the default (the watched folder) differs between steps' folders, and the
    // graphs of two steps must be equal to compare.
    LINEAGE_NAMESPACE: BENCH_NAMESPACE,
    INGEST_WORKERS: config.workers,
    BATCH_SIZE_THRESHOLD: config.batchSize,
    DEBOUNCE_WINDOW_SECONDS: config.debounceSeconds,
    ...isolatedFolders(dir),
    // A free port: the bench must never collide with a service running on this host.
    METRICS_PORT: 0,
    METRICS_HOST: '127.0.0.1',
  }
  for (const f of FEATURES) flags[FEATURE_ENV[f]] = config.features[f]
  return flags
}

/** Run one configuration on the workload in `dir` (exported for profiling scripts). */
export async function runStep(
  config: StepConfig,
  dir: string,
  files: readonly BenchFile[],
  plan: BurstPlan,
  graph: BenchGraph | undefined,
  options: BenchOptions,
): Promise<StepRun> {
  const flags = stepFlags(config, dir)
  const raw = flags.LINEAGE_RAW_DIR as string
  mkdirSync(raw, {recursive: true})
  const settleMs = options.settleMs ?? BENCH_SETTLE_MS
  const seen = new BenchObserver()
  const service = await startService({
    observer: seen.observer,
    settings: {...options.settings, flags: {...options.settings.flags, ...flags}},
    once: false,
    poll: false,
    settleMs,
    reingest: false,
    logLevel: 'warn',
  })
  const watch = new Settler(service, seen, config.name, options, settleMs)
  try {
    const neoBefore = (await graph?.serverCpuSeconds()) ?? null
    const cpuBefore = process.cpuUsage()
    const t0 = performance.now()
    const initial = await watch.settle('initial ingest', writeFiles(raw, files), [], t0)
    const t1 = performance.now()
    await playBurst(raw, plan)
    const state = finalState(files, plan)
    const gone = [...state].filter(([, c]) => c === null).map(([p]) => p)
    const burst = await watch.settle('burst', expectFiles(raw, state), gone, t1)
    const cpu = process.cpuUsage(cpuBefore)
    const neoAfter = (await graph?.serverCpuSeconds()) ?? null
    await service.stop()
    const stats = structuredClone(service.stats)
    const initialSeconds = (initial - t0) / 1000
    const burstSeconds = (burst - t1) / 1000
    const failedFile = flags.LINEAGE_FAILED_FILE as string
    return {
      measure: {
        seconds: initialSeconds + burstSeconds,
        initialSeconds,
        burstSeconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        neo4jCpuSeconds: neoBefore !== null && neoAfter !== null ? neoAfter - neoBefore : null,
        peakRssBytes: watch.peakRss,
        stats,
        latenciesMs: seen.latenciesMs,
        parsedInPool: seen.parsedInPool,
        parsedInline: seen.parsedInline,
      },
      graph: await graph?.digest(),
      output: digestOutput(flags.LINEAGE_OUT_DIR as string),
      failedWrites: countFailures(failedFile),
      failedFile,
    }
  } finally {
    await service.stop()
  }
}
