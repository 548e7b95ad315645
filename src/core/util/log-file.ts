/**
 * The structured log file of the service: one JSON object a line ({"level","time","msg", ...fields}) written by
 * pino through an asynchronous destination (sonic-boom), so logging never blocks the event loop on the disk.
 * Loaded only by `openLogger` in logger.ts, so a command without a log file never loads pino.
 *
 * Contract: never throws into the logging caller. A file that cannot be opened or written is reported once
 * through `onError` and left alone until `reopen()`, which tries its path again. `reopen()` opens the path
 * anew (logrotate renamed the file; the old file gets nothing more); the file is opened in append mode, so
 * logrotate's `copytruncate` is safe too. `close()` resolves once every line written before it is on disk;
 * lines after it are dropped. An exit without `close()` (a second SIGTERM) is flushed synchronously by pino's
 * own exit hook; a SIGKILL can lose the last lines still in the buffer.
 */
import {closeSync, mkdirSync, openSync} from 'node:fs'
import {dirname} from 'node:path'

import {pino, type Logger as Pino} from 'pino'

import {errorMessage} from '../errors.js'
import {CENSOR, type LogFields, type LogLevel, type LogSink, REDACT_PATHS} from '../logger.js'

type Destination = ReturnType<typeof pino.destination>

export interface LogFileOptions {
  level: LogLevel
  clock?: () => Date
  /** Told once per failure of the file (open, write); the caller says so on stderr. */
  onError: (reason: string) => void
}

interface Open {
  dest: Destination
  log: Pino
  /** The file descriptor is open ('ready' was seen). */
  opened: boolean
  failed: boolean
}

export function openLogFile(file: string, options: LogFileOptions): LogSink {
  return new LogFile(file, options)
}

class LogFile implements LogSink {
  private current: Open | undefined
  private closed = false

  constructor(
    private readonly file: string,
    private readonly options: LogFileOptions,
  ) {
    this.current = this.open()
  }

  write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (this.closed || !this.current || this.current.failed) return
    this.current.log[level](fields ?? {}, message)
  }

  reopen(): void {
    if (this.closed) return
    const {current} = this
    if (!current || current.failed) {
      this.current = this.open()
      return
    }
    try {
      current.dest.reopen()
    } catch (error) {
      this.fail(current, errorMessage(error))
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    const {current} = this
    if (!current || current.failed) return Promise.resolve()
    return new Promise<void>((resolve) => {
      current.dest.once('close', resolve).once('error', resolve)
      current.dest.end()
    })
  }

  private open(): Open | undefined {
    // Tried synchronously first: a destination whose asynchronous open fails is left registered with
    // pino's exit hook, which then throws at exit ("sonic boom is not ready yet").
    try {
      mkdirSync(dirname(this.file), {recursive: true})
      closeSync(openSync(this.file, 'a'))
    } catch (error) {
      this.options.onError(errorMessage(error))
      return undefined
    }
    const dest = pino.destination({dest: this.file, sync: false, mkdir: true})
    const clock = this.options.clock ?? (() => new Date())
    const log = pino(
      {
        level: this.options.level,
        base: null,
        timestamp: () => `,"time":"${clock().toISOString()}"`,
        formatters: {level: (label) => ({level: label})},
        redact: {paths: [...REDACT_PATHS], censor: CENSOR},
      },
      dest,
    )
    const state: Open = {dest, log, opened: false, failed: false}
    dest.once('ready', () => {
      state.opened = true
    })
    dest.on('error', (error: Error) => {
      this.fail(state, error.message)
    })
    return state
  }

  /** Stop writing to a destination that failed; its buffered lines are lost with the file. */
  private fail(state: Open, reason: string): void {
    if (state.failed) return
    state.failed = true
    // destroy() waits for an fd that never opened, so only a destination that has one is destroyed.
    if (state.opened) state.dest.destroy()
    this.options.onError(reason)
  }
}
