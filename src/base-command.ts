/**
 * The only class commands extend. It owns `--json`, the shared flags, the mapping of errors onto exit
 * codes (text and JSON alike), a stderr logger, and the closing of whatever a command opened.
 */
import {dirname, join, resolve} from 'node:path'

import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {
  createLogger,
  errorMessage,
  ExitCode,
  isLineageError,
  type LineageGraph,
  LOG_LEVELS,
  type Logger,
  lineageNamespace,
  openLineageGraph,
  type LogLevel,
  resolveSettings,
  resolveTarget,
  type Settings,
  type Target,
  targetLine,
} from './core/index.js'

/** The flags of every command that acts on a service's state (rollback, flags, cache, retry-failed, verify). */
export const targetFlags = {
  service: Flags.string({
    description: 'the running service to act on (its name, state folder or pid), when several are registered',
    env: 'LINEAGE_SERVICE',
    helpGroup: 'TARGET',
  }),
  'state-dir': Flags.string({
    description: 'act on this state folder (LINEAGE_STATE_DIR) instead of the registered service',
    helpGroup: 'TARGET',
  }),
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

interface ErrorBody {
  code: string
  exit: number
  message: string
  hint?: string
  details?: Record<string, unknown>
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    config: Flags.string({
      description: 'JSON file with settings (keys are the environment variable names, e.g. NEO4J_URI)',
      env: 'LINEAGE_CONFIG',
      helpGroup: 'GLOBAL',
    }),
    'log-level': Flags.option({
      description: 'how much to log on stderr',
      env: 'LINEAGE_LOG_LEVEL',
      options: LOG_LEVELS,
      default: 'info' as LogLevel,
      helpGroup: 'GLOBAL',
    })(),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected logger!: Logger
  /** Exit status to end with after the result has been printed (verify's WARNING, retry-failed's leftovers). */
  protected exitStatus: number = ExitCode.OK
  /** The exit status of an error the catalogue ends with 1, where 1 means something else (impact: 70). */
  protected failureExit: number = ExitCode.FAILURE
  private readonly cleanups: (() => Promise<void> | void)[] = []

  public override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.logger = createLogger({level: this.flags['log-level'], stream: process.stderr})
  }

  /**
   * The service this command acts on (see core/ops/target.ts) and its first line, printed before anything else
   * (stderr under --json, where the result carries it as `target`).
   */
  protected target(
    flags: {service?: string | undefined; 'state-dir'?: string | undefined},
    options: {stderr?: boolean} = {},
  ): Target {
    const target = resolveTarget({configFile: this.flags.config, stateDir: flags['state-dir'], service: flags.service})
    const line = targetLine(target)
    if (this.jsonEnabled() || options.stderr) this.note(line)
    else this.log(line)
    // Tolerant settings: a bad unrelated value is a warning here, never a reason to refuse a rollback.
    for (const problem of resolveSettings(target.input).problems) this.note(`warning: ${problem}`)
    return target
  }

  /**
   * The lineage graph `trace` and `impact` read: Neo4j when configured, else the output folder (`out`, else the
   * settings'), closed when the command ends. Output files that are not lineage records are warned about.
   */
  protected async openReadGraph(
    settings: Settings,
    out: string | undefined,
    rawDir: string = settings.rawDir,
  ): Promise<LineageGraph> {
    const outDir = resolve(out ?? settings.outDir)
    const namespace = lineageNamespace({setting: settings.openLineage.namespace, rawDir})
    // The output folder's index sits beside the parse cache: a cache too, rebuilt when deleted.
    const indexFile = join(dirname(resolve(settings.cacheFile)), 'trace-index.sqlite')
    const {graph, invalid} = await openLineageGraph({neo4j: settings.neo4j, namespace, outDir, indexFile})
    this.defer(() => graph.close())
    if (invalid.length > 0)
      this.note(`warning: ${invalid.length} file(s) in ${outDir} are not lineage records, skipped`)
    return graph
  }

  /** Register something to close in `finally()` (driver, database, watcher, pool), last opened first closed. */
  protected defer(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup)
  }

  /** A short human line on stderr, also under --json (progress, warnings, what to do next). */
  protected note(message: string): void {
    process.stderr.write(`${message}\n`)
  }

  public override async _run<R>(): Promise<R> {
    const result = await super._run<R>()
    if (this.exitStatus !== ExitCode.OK) Errors.exit(this.exitStatus)
    return result
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- oclif's catch() is async by contract
  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    // Parse errors arrive before init() has set the flags.
    const flags = this.flags as BaseFlags<T> | undefined
    const body = toErrorBody(err, flags?.['log-level'] === 'debug')
    if (body.exit === ExitCode.FAILURE) body.exit = this.failureExit
    if (this.jsonEnabled()) {
      this.logJson({error: body})
      // The body is the output; leave with its status and without oclif printing the error again.
      Errors.exit(body.exit)
    }
    // One line and one hint line, never oclif's box wrapped at 80 columns: read at 3 a.m., grepped in a journal.
    process.stderr.write(`${oneLine(body)}\n`)
    const text = body.hint ? `${body.message}\n${body.hint}` : body.message
    // Printed above; oclif's handler only takes the exit status from it (its message stays for programs and tests).
    throw Object.assign(new Errors.CLIError(text, {exit: body.exit, code: body.code}), {skipOclifErrorHandling: true})
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup()
      } catch (error) {
        process.stderr.write(`warning: cleanup failed: ${errorMessage(error)}\n`)
      }
    }
    return super.finally(err)
  }
}

/** `lineage: <message>` on one line, then `hint: <what to do>` when there is one. */
export function oneLine(body: ErrorBody): string {
  const flat = (text: string): string => text.replace(/\s*\n\s*/g, '; ').trim()
  return `lineage: ${flat(body.message)}${body.hint ? `\nhint: ${flat(body.hint)}` : ''}`
}

/** Map any thrown value onto the uniform error body: LineageError keeps its code; parse errors are usage (64). */
export function toErrorBody(err: unknown, withStack = false): ErrorBody {
  if (isLineageError(err)) {
    return {
      code: err.code,
      exit: err.exit,
      message: err.message,
      ...(err.hint ? {hint: err.hint} : {}),
      ...(err.details ? {details: err.details} : {}),
    }
  }
  if (err instanceof Errors.CLIError && 'parse' in err) {
    return {code: 'E_USAGE', exit: ExitCode.USAGE, message: err.message}
  }
  if (err instanceof Errors.CLIError) {
    const exit = err.oclif.exit ?? ExitCode.FAILURE
    return {code: err.code ?? (exit === ExitCode.USAGE ? 'E_USAGE' : 'E_FAILURE'), exit, message: err.message}
  }
  const message = withStack && err instanceof Error && err.stack ? err.stack : errorMessage(err)
  return {code: 'E_INTERNAL', exit: ExitCode.FAILURE, message}
}
