import {resolve} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ExitCode, LineageError} from '../core/index.js'
import type {BenchReport} from '../bench/report.js'
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
all-on speedup is under --min-speedup.`

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
  }

  public async run(): Promise<BenchReport> {
    const {runBench} = await import('../bench/bench.js')
    const {renderBenchReport} = await import('../ui/bench.js')
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
}
