/**
 * The one error type the core throws. `code` is a stable string scripts can match on; `exit` is the
 * process exit status a command should end with; `hint` says what to do next.
 */
import {ExitCode, type ExitCodeValue} from './exit-codes.js'

export type ErrorCode =
  | 'E_USAGE'
  | 'E_CONFIG'
  | 'E_NEO4J_UNAVAILABLE'
  | 'E_NEO4J_WRITE'
  | 'E_FILE_READ'
  | 'E_FILE_TOO_LARGE'
  | 'E_NOT_TEXT'
  | 'E_PARSE'
  | 'E_PARSE_TIMEOUT'
  | 'E_CACHE_CORRUPT'
  | 'E_CACHE'
  | 'E_WORKER_CRASHED'
  | 'E_STATE'
  | 'E_SERVICE_MANAGER'
  | 'E_SERVICE_UNHEALTHY'
  | 'E_WATCH_LIMIT'
  | 'E_RETRY_REMAINING'
  | 'E_SPEEDUP_BELOW_MIN'
  | 'E_INTERRUPTED'
  | 'E_INTERNAL'

export class LineageError extends Error {
  readonly code: ErrorCode
  readonly exit: ExitCodeValue
  readonly hint: string | undefined

  constructor(message: string, code: ErrorCode, exit: ExitCodeValue = ExitCode.FAILURE, hint?: string) {
    super(message)
    this.name = 'LineageError'
    this.code = code
    this.exit = exit
    this.hint = hint
  }
}

export function isLineageError(error: unknown): error is LineageError {
  return error instanceof LineageError
}

/** The message of anything thrown, without a stack. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

/** A usage error (exit 64): a bad value for a flag or argument. */
export function usageError(message: string, hint?: string): LineageError {
  return new LineageError(message, 'E_USAGE', ExitCode.USAGE, hint)
}

/** A configuration error (exit 78). */
export function configError(message: string, hint?: string): LineageError {
  return new LineageError(message, 'E_CONFIG', ExitCode.CONFIG, hint)
}
