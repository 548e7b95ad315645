import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ExitCode, LineageError} from '../core/index.js'
import type {BenchReport} from '../bench/report.js'
import type {ScaleReport} from '../bench/scale.js'
import {BENCH_STEPS} from '../bench/steps.js'

export default class Bench extends BaseCommand<typeof Bench> {
  static override summary = 'Measure the optimizations against the baseline on the real pipeline'
  static override description = `Runs the ingestion service in process, end to end, once per configuration: the \
baseline (all five features off, 1 worker, batch 1, no debounce), then parse cache, batching, Neo4j batch and \
parallel added one at a time, then all on with the default tuning. Each starts from an empty cache, ledger and \
graph; the corpus is copied into an empty watched folder so the watcher's events drive it, then a burst of saves \
follows (re-saved, edited, saved several times, deleted). Reports files per minute, p50 and p95 event-to-graph \
latency, CPU, peak memory, cache hit rate, Neo4j transactions and the speedup; every step's graph and output must \
equal the baseline's. Before the steps it measures the parse ceiling once on the same corpus: the files already \
in memory, extracted by as many threads as the machine has (the available parallelism, shown in the output) and \
nothing else; each step's initial ingest is reported as a share of it (--json: "ceiling" {threads, files, \
seconds, filesPerSecond}, and per step "initialFilesPerSecond" and "ceilingRatio", a fraction). Without NEO4J_URI the graph step is off (the first line says so). The bench deletes \
everything in the graph between steps: it refuses a graph that is not empty unless --clear-graph is given. It \
works in a temporary folder, never in the data folders. Exit 1 when a step differs, a graph write failed, or the \
all-on speedup is under --min-speedup.

With --scale it measures something else: whether the cost per file stays flat as the repository grows. For each \
size (--scale-files, default 1,000, 10,000, 50,000 and 200,000) it writes that many tiny SQL files to a temporary \
folder and runs watch --once over them with the built-in defaults (no graph), each size in a process of its own, \
and reports the wall time and CPU per file and the peak RSS; then it pushes a backlog of --scale-events file \
events (default 1,000,000) into the batcher and drains it in batches of 50. Exit 1 when a size does not ingest \
every file cleanly.`

  static override examples = [
    {description: 'The default run (300 generated files)', command: '<%= config.bin %> <%= command.id %>'},
    {
      description: 'The regression check of the runbook, against a scratch Neo4j',
      command:
        'NEO4J_URI=bolt://127.0.0.1:7687 <%= config.bin %> <%= command.id %> --files 2000 --min-speedup 10 --json',
    },
    {
      description: "The default configuration's share of the parse ceiling (steps[].ceilingRatio), as JSON",
      command: '<%= config.bin %> <%= command.id %> --files 300 --steps all-on --json',
    },
    {
      description: 'Time per file and peak RSS from 1,000 to 200,000 files, and a 1,000,000-event backlog',
      command: '<%= config.bin %> <%= command.id %> --scale',
    },
    {
      description: 'Only the baseline and all on, over your own SQL',
      command: '<%= config.bin %> <%= command.id %> --corpus ./warehouse-sql --steps all-on',
    },
  ]

  static override flags = {
    corpus: Flags.directory({
      description: 'folder of SQL files to use as the corpus instead of the generated one',
      exists: true,
      exclusive: ['files'],
    }),
    files: Flags.integer({description: 'files in the generated corpus (default 300)', min: 1, max: 100_000}),
    seed: Flags.integer({description: 'seed of the generated corpus and of the burst', default: 42}),
    steps: Flags.option({
      description: 'steps to run besides the baseline, comma-separated (default: all)',
      options: BENCH_STEPS,
      multiple: true,
      delimiter: ',',
    })(),
    'min-speedup': Flags.string({
      description: 'exit 1 when all on is less than this many times faster than the baseline (e.g. 10)',
    }),
    'clear-graph': Flags.boolean({
      description: 'delete what the Neo4j graph holds before starting, instead of refusing',
    }),
    keep: Flags.boolean({description: 'keep the work folder and the last graph, for debugging'}),
    scale: Flags.boolean({
      description: 'measure time per file and peak RSS over growing folders instead of the steps',
      exclusive: ['corpus', 'files', 'steps', 'min-speedup', 'clear-graph'],
    }),
    'scale-files': Flags.integer({
      description: 'folder sizes for --scale, comma-separated (default 1000,10000,50000,200000)',
      min: 1,
      max: 10_000_000,
      multiple: true,
      delimiter: ',',
      dependsOn: ['scale'],
    }),
    'scale-events': Flags.integer({
      description: 'pending events the batcher drains for --scale; 0 skips it (default 1000000)',
      min: 0,
      dependsOn: ['scale'],
    }),
  }

  public async run(): Promise<BenchReport | ScaleReport> {
    const {flags} = this
    const abort = new AbortController()
    const onSignal = (): void => {
      if (abort.signal.aborted) process.exit(ExitCode.INTERRUPTED)
      this.note('interrupted: stopping the step in flight and cleaning up (again to exit at once)')
      abort.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    this.defer(() => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    })
    if (flags.scale) return this.runScale(abort.signal)
    const {runBench} = await import('../bench/bench.js')
    const {renderBenchReport} = await import('../ui/bench.js')
    const minSpeedup = flags['min-speedup'] === undefined ? undefined : Number(flags['min-speedup'])
    if (minSpeedup !== undefined && !(minSpeedup > 0 && Number.isFinite(minSpeedup))) {
      throw new LineageError('E_USAGE', `--min-speedup must be a positive number, not "${flags['min-speedup'] ?? ''}"`)
    }
    const report = await runBench({
      corpus: flags.corpus ? {dir: resolve(flags.corpus)} : {files: flags.files ?? 300, seed: flags.seed},
      seed: flags.seed,
      steps: flags.steps,
      settings: {configFile: flags.config},
      minSpeedup,
      clearGraph: flags['clear-graph'],
      keep: flags.keep,
      logger: this.logger,
      signal: abort.signal,
    })
    this.log(renderBenchReport(report))
    for (const problem of report.problems) this.note(`FAILED: ${problem}`)
    if (!report.ok) this.exitStatus = ExitCode.FAILURE
    return report
  }

  private async runScale(signal: AbortSignal): Promise<ScaleReport> {
    const {DEFAULT_SCALE_EVENTS, DEFAULT_SCALE_FILES, runScale} = await import('../bench/scale.js')
    const {renderScaleReport} = await import('../ui/bench.js')
    const {flags} = this
    const report = await runScale({
      files: flags['scale-files'] ?? DEFAULT_SCALE_FILES,
      events: flags['scale-events'] ?? DEFAULT_SCALE_EVENTS,
      logger: this.logger,
      signal,
      keep: flags.keep,
    })
    this.log(renderScaleReport(report))
    for (const problem of report.problems) this.note(`FAILED: ${problem}`)
    if (!report.ok) this.exitStatus = ExitCode.FAILURE
    return report
  }
}
