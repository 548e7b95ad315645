import {hostname} from 'node:os'
import {basename, resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {ExitCode, register, startService, unregister, type RunSummary, type ServiceHandle} from '../core/index.js'

export type WatchResult = Omit<RunSummary, 'stats'> & {
  reconciled: number
  cacheHits: number
  transactions: number
  /** The port /metrics was served on; null when none (a --once run without --metrics-port). */
  metricsPort: number | null
}

export default class Watch extends BaseCommand<typeof Watch> {
  static override summary = 'Run the ingestion service: watch a folder of SQL files and record their lineage'
  static override description = `Watches RAW for SQL files, extracts table and column lineage from each, writes \
OUT/<path>.lineage.json and, when NEO4J_URI is set, the lineage graph to Neo4j. At start it reconciles: files \
that changed or appeared while it was down are ingested, files that vanished are retracted. Feature flags \
(FEATURE_*) and operator overrides ("lineage rollback", "lineage flags") apply while it runs, within about a \
second. Metrics and /healthz are served on METRICS_PORT (by --once only when --metrics-port is given). SIGTERM or SIGINT stops it cleanly after the batch in \
flight; a second signal exits at once. SIGHUP reopens the log file (LINEAGE_LOG_FILE) after logrotate moved it. \
With LINEAGE_OPENLINEAGE_URL set, each ingested file's OpenLineage event (what "lineage export" prints) is sent \
there in the background, retried, and dropped and counted while the endpoint is down; removed files send nothing.`

  static override examples = [
    {
      description: 'Watch the default folders (data/raw to data/output)',
      command: '<%= config.bin %> <%= command.id %>',
    },
    {
      description: 'Watch with the graph on',
      command:
        'NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_PASSWORD_FILE=/run/secrets/neo4j <%= config.bin %> <%= command.id %> ./data/raw ./data/output',
    },
    {
      description: 'Ingest a folder once and exit (batch jobs)',
      command: '<%= config.bin %> <%= command.id %> ./sql ./lineage-out --once --json',
    },
  ]

  static override args = {
    raw: Args.string({description: 'folder of SQL files to watch (LINEAGE_RAW_DIR, default data/raw)'}),
    out: Args.string({description: 'folder for the lineage JSON files (LINEAGE_OUT_DIR, default data/output)'}),
  }

  static override flags = {
    once: Flags.boolean({description: 'ingest the folder as it is, print a summary and exit'}),
    poll: Flags.boolean({
      description: 'poll the folder instead of using inotify (network file systems)',
      env: 'LINEAGE_POLL',
    }),
    reingest: Flags.boolean({description: 'ingest every file again, ignoring what the ledger says is done'}),
    'allow-mass-retract': Flags.boolean({
      description:
        'apply a start-up retraction of more than LINEAGE_MASS_RETRACT_SHARE of the folder (held back otherwise)',
    }),
    dialect: Flags.string({description: 'SQL dialect of the files (sqlfluff names: ansi, postgres, mysql, tsql, ...)'}),
    workers: Flags.integer({description: 'parse workers (INGEST_WORKERS)', min: 1}),
    'settle-ms': Flags.integer({
      description: 'how long a file size must stay unchanged before it is read',
      default: 300,
      min: 0,
      env: 'LINEAGE_SETTLE_MS',
    }),
    'metrics-port': Flags.integer({
      description: 'port for /metrics and /healthz (METRICS_PORT; 0 picks a free one); --once serves none unless given',
      min: 0,
      max: 65_535,
    }),
    name: Flags.string({
      description: 'the name on-call commands pick this service by (--service NAME); default: the working folder',
      env: 'LINEAGE_SERVICE_NAME',
    }),
  }

  public async run(): Promise<WatchResult> {
    const {args, flags} = this
    const service = await startService({
      settings: {
        configFile: flags.config,
        flags: {
          LINEAGE_RAW_DIR: args.raw,
          LINEAGE_OUT_DIR: args.out,
          LINEAGE_DIALECT: flags.dialect,
          INGEST_WORKERS: flags.workers,
          METRICS_PORT: flags['metrics-port'],
        },
      },
      once: flags.once,
      // A one-off run beside the service must not fight it for its port: no metrics unless asked.
      serveMetrics: !flags.once || flags['metrics-port'] !== undefined,
      poll: flags.poll,
      reingest: flags.reingest,
      allowMassRetract: flags['allow-mass-retract'],
      settleMs: flags['settle-ms'],
      logLevel: flags['log-level'],
      stream: process.stderr,
    })
    // Register (not a one-off --once run) so on-call commands find this service from any folder.
    if (!flags.once) this.register(service)
    let signals = 0
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++
      if (signals > 1) process.exit(ExitCode.INTERRUPTED)
      this.note(`${signal} received: finishing the batch in flight (send it again to exit at once)`)
      void service.stop()
    }
    // logrotate's postrotate sends SIGHUP once it has moved the log away: write on at the configured path.
    const onHangup = (): void => {
      service.reopenLog()
    }
    this.defer(async () => {
      try {
        await service.stop()
      } finally {
        // Only now: until the service is closed, a second signal still means "exit at once" (130), never
        // death by the default action halfway through closing.
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', onSignal)
        process.off('SIGHUP', onHangup)
      }
    })
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    process.on('SIGHUP', onHangup)
    const progress =
      flags.once && process.stderr.isTTY
        ? setInterval(() => {
            process.stderr.write(`\ringested ${service.stats.files} of ${service.reconciled} file(s)…`)
          }, 250)
        : undefined
    const summary = await service.done
    if (progress) {
      clearInterval(progress)
      process.stderr.write('\n')
    }
    const {stats, ...rest} = summary
    this.log(
      `${rest.files} file(s), ${rest.statements} statement(s), ${rest.failed} failed, ${rest.unchanged} unchanged, ` +
        `${rest.removed} removed in ${rest.seconds.toFixed(1)} s` +
        (rest.graphFailures > 0 ? `; ${rest.graphFailures} graph write(s) kept for "lineage retry-failed"` : ''),
    )
    if (rest.firstBatchError !== null) this.note(`${rest.batchErrors} batch(es) not recorded: ${rest.firstBatchError}`)
    // A folder's .lineage.json ignored: its files were ingested, but not with the defaults asked for.
    for (const ignored of rest.ignoredFolderSettings) this.note(ignored)
    const ignored = rest.ignoredFolderSettings.length > 0
    if (flags.once && (rest.failed > 0 || rest.graphFailures > 0 || rest.batchErrors > 0 || ignored)) {
      this.exitStatus = ExitCode.FAILURE
    }
    return {
      ...rest,
      reconciled: service.reconciled,
      cacheHits: stats.cacheHits,
      transactions: stats.transactions,
      metricsPort: service.metricsPort ?? null,
    }
  }

  /**
   * Register so on-call commands find this service from any folder. A registry that cannot be written (a
   * read-only home under systemd hardening) must not stop the service: say so, and how to reach it instead.
   */
  private register(service: ServiceHandle): void {
    const {flags} = this
    const s = service.settings
    try {
      register({
        name: flags.name ?? basename(process.cwd()),
        pid: process.pid,
        host: hostname(),
        startedAt: new Date().toISOString(),
        stateDir: s.stateDir,
        configFile: flags.config === undefined ? null : resolve(flags.config),
        cacheFile: s.cacheFile,
        failedFile: s.failedFile,
        logFile: s.logFile,
        rawDir: s.rawDir,
        outDir: s.outDir,
        metricsUrl: service.metricsPort === undefined ? null : `http://127.0.0.1:${service.metricsPort}/metrics`,
      })
      this.defer(() => {
        unregister(s.stateDir, process.pid)
      })
    } catch (error) {
      this.note(
        `warning: not registered (${error instanceof Error ? error.message : String(error)}); ` +
          `on-call commands reach this service with --state-dir ${s.stateDir}, or set LINEAGE_HOME for both`,
      )
    }
  }
}
