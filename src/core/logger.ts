/**
 * The core's logger: a readable line on a stream (stderr, for people) and, for the service, JSON lines in a
 * log file (for machines). The core takes a `Logger` as a parameter and never writes to stdout.
 *
 * Contract: logging never throws into the caller; a log file that cannot be written is reported once on the
 * stream and given up until `reopen()`. `createLogger` (every command's stderr logger) loads nothing heavy;
 * `openLogger` loads pino (src/core/log-file.ts) only when a log file is configured.
 *
 * Redaction is by path, not by pattern: a field is censored when its key is one of REDACTED_KEYS, at the top
 * level or one object down (`conn.password`). Those keys are what the former key pattern
 * /pass(word)?|secret|token|credential|auth/i was there to catch; no field the code logs today (stack, path,
 * code, line, reason, error) is among them, so a new secret field must use one of these names. The same
 * paths drive the stream line (@pinojs/redact, pino's own redactor) and the file (pino's `redact`).
 */
import {createRequire} from 'node:module'

import type redactor from '@pinojs/redact'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

/** A logger that owns a log file: the service reopens it on SIGHUP and closes it when it stops. */
export interface ServiceLogger extends Logger {
  /** Open the log file again at its path (logrotate moved it away); a no-op without a file. */
  reopen(): void
  /** Write out every line logged so far and close the file; later lines go to the stream only. */
  close(): Promise<void>
}

export interface LoggerOptions {
  level: LogLevel
  /** Readable lines go here (stderr in the CLI); omit for none. */
  stream?: NodeJS.WritableStream
  clock?: () => Date
}

export interface FileLoggerOptions extends LoggerOptions {
  /** JSON lines go here, written asynchronously; the folder is created. */
  file?: string
}

/** The keys censored (see the contract above). */
export const REDACTED_KEYS = [
  'password',
  'passwd',
  'pass',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'credential',
  'credentials',
  'auth',
  'authorization',
  'NEO4J_PASSWORD',
] as const
export const REDACT_PATHS: readonly string[] = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`])
export const CENSOR = '[redacted]'

/** Where the file logger (src/core/log-file.ts) sends each line that passed the level threshold. */
export interface LogSink {
  write(level: LogLevel, message: string, fields: LogFields | undefined): void
  reopen(): void
  close(): Promise<void>
}

let redactToText: ReturnType<typeof redactor> | undefined

/** The fields of a readable line, secrets censored: `key=value key2={"json":1}`. */
function readableFields(fields: LogFields): string {
  // Loaded on the first line with fields, not at import: most commands never log one (start-up time).
  if (!redactToText) {
    const load = createRequire(import.meta.url)('@pinojs/redact') as typeof redactor
    redactToText = load({paths: [...REDACT_PATHS], censor: CENSOR, serialize: formatFields, strict: false})
  }
  return redactToText(fields) as string
}

function formatFields(fields: LogFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
}

/** Readable lines only: what every command uses (stderr); nothing heavy is loaded. */
export function createLogger(options: LoggerOptions): Logger {
  return build(options, undefined)
}

/** The service's logger: readable lines on the stream and, when `file` is set, JSON lines in that file. */
export async function openLogger(options: FileLoggerOptions): Promise<ServiceLogger> {
  if (options.file === undefined) return build(options, undefined)
  const {openLogFile} = await import('./util/log-file.js')
  const file = options.file
  const sink = openLogFile(file, {
    level: options.level,
    ...(options.clock ? {clock: options.clock} : {}),
    onError: (reason) => {
      options.stream?.write(`warn: log file ${file} cannot be written (${reason}); tried again on SIGHUP\n`)
    },
  })
  return build(options, sink)
}

function build(options: LoggerOptions, sink: LogSink | undefined): ServiceLogger {
  const threshold = LOG_LEVELS.indexOf(options.level)
  const {stream} = options
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return
    if (stream) {
      const extra = fields && Object.keys(fields).length > 0 ? ` ${readableFields(fields)}` : ''
      stream.write(`${level === 'info' ? '' : `${level}: `}${message}${extra}\n`)
    }
    sink?.write(level, message, fields)
  }
  return {
    debug: (m, f) => {
      emit('debug', m, f)
    },
    info: (m, f) => {
      emit('info', m, f)
    },
    warn: (m, f) => {
      emit('warn', m, f)
    },
    error: (m, f) => {
      emit('error', m, f)
    },
    reopen: () => {
      sink?.reopen()
    },
    close: () => sink?.close() ?? Promise.resolve(),
  }
}

/** A logger that drops everything (tests, embedding). */
const ignore = (): void => undefined
export const silentLogger: Logger = {debug: ignore, info: ignore, warn: ignore, error: ignore}
