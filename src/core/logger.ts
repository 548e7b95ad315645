/**
 * A small structured logger: JSON lines to a file (for machines), a readable line on a stream (for people).
 * The core takes a Logger as a parameter and never writes to stdout. Fields whose key looks like a
 * secret are redacted, so a password can never reach a log by accident.
 */
import {appendFileSync, mkdirSync} from 'node:fs'
import {dirname} from 'node:path'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

export interface LoggerOptions {
  level: LogLevel
  /** Readable lines go here (stderr in the CLI); omit for none. */
  stream?: NodeJS.WritableStream
  /** JSON lines go here; the folder is created. */
  file?: string
  clock?: () => Date
}

const SECRET_KEY = /pass(word)?|secret|token|credential|auth/i

export function redact(fields: LogFields): LogFields {
  const out: LogFields = {}
  for (const [key, value] of Object.entries(fields)) out[key] = SECRET_KEY.test(key) ? '[redacted]' : value
  return out
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level)
  const clock = options.clock ?? (() => new Date())
  if (options.file) mkdirSync(dirname(options.file), {recursive: true})
  let fileBroken = false

  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return
    const safe = fields ? redact(fields) : undefined
    const time = clock().toISOString()
    if (options.stream) {
      const extra = safe && Object.keys(safe).length > 0 ? ` ${formatFields(safe)}` : ''
      const tag = level === 'info' ? '' : `${level}: `
      options.stream.write(`${tag}${message}${extra}\n`)
    }
    if (options.file && !fileBroken) {
      try {
        appendFileSync(options.file, `${JSON.stringify({time, level, msg: message, ...safe})}\n`)
      } catch {
        // A log file we cannot write must not stop ingestion; the stream still carries the lines.
        fileBroken = true
      }
    }
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
  }
}

function formatFields(fields: LogFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
}

/** A logger that drops everything (tests, embedding). */
const ignore = (): void => undefined
export const silentLogger: Logger = {debug: ignore, info: ignore, warn: ignore, error: ignore}
