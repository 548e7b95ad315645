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

import {errorMessage} from './errors.js'
import {CENSOR, type LogFields, type LogLevel, type LogSink, REDACT_PATHS} from './logger.js'

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
  failed: boolean
}

export function openLogFile(file: string, options: LogFileOptions): LogSink {
  const clock = options.clock ?? (() => new Date())
  let current = open()
  let closed = false

  function open(): Open | undefined {
    // Tried synchronously first: a destination whose asynchronous open fails is left registered with
    // pino's exit hook, which then throws at exit ("sonic boom is not ready yet").
    try {
      mkdirSync(dirname(file), {recursive: true})
      closeSync(openSync(file, 'a'))
    } catch (error) {
      options.onError(errorMessage(error))
      return undefined
    }
    const dest = pino.destination({dest: file, sync: false, mkdir: true})
    const log = pino(
      {
        level: options.level,
        base: null,
        timestamp: () => `,"time":"${clock().toISOString()}"`,
        formatters: {level: (label) => ({level: label})},
        redact: {paths: [...REDACT_PATHS], censor: CENSOR},
      },
      dest,
    )
    const state: Open = {dest, log, failed: false}
    let opened = false
    dest.once('ready', () => {
      opened = true
    })
    dest.on('error', (error: Error) => {
      if (state.failed) return
      state.failed = true
      // Stop writing to it; its buffered lines are lost with the file. destroy() waits for an fd that
      // never opened, so only a destination that has one is destroyed.
      if (opened) dest.destroy()
      options.onError(error.message)
    })
    return state
  }

  return {
    write(level, message, fields: LogFields | undefined) {
      if (closed || !current || current.failed) return
      current.log[level](fields ?? {}, message)
    },
    reopen() {
      if (closed) return
      if (current && !current.failed) {
        current.dest.reopen()
        return
      }
      current = open()
    },
    close() {
      if (closed) return Promise.resolve()
      closed = true
      if (!current || current.failed) return Promise.resolve()
      const {dest} = current
      return new Promise<void>((resolve) => {
        dest.once('close', () => {
          resolve()
        })
        dest.once('error', () => {
          resolve()
        })
        dest.end()
      })
    },
  }
}
