/**
 * The one error type the core throws, and the catalogue of its codes. `code` is a stable string scripts can
 * match on; the catalogue fixes the exit status each code ends a command with, so a throw site names the
 * code and the message (and, where it knows better than the catalogue, the hint) and never picks an exit
 * status of its own. The man pages print the catalogue.
 */
import {ExitCode, type ExitCodeValue} from './exit-codes.js'

interface CatalogueEntry {
  exit: ExitCodeValue
  /** What the code means, for the man pages. */
  meaning: string
  /** What to do next, when the throw site gives no hint of its own. */
  hint?: string
}

export const ERRORS = {
  E_USAGE: {exit: ExitCode.USAGE, meaning: 'a bad flag, argument or value', hint: 'See "lineage help <command>".'},
  E_CONFIG: {
    exit: ExitCode.CONFIG,
    meaning: 'the configuration is invalid (environment, --config file or a flag)',
    hint: 'Fix the values named (environment, --config file or flags) and run again.',
  },
  E_STATE: {
    exit: ExitCode.CONFIG,
    meaning: 'the operator flag state (overrides.json, audit log) is damaged, unreadable or locked',
  },
  E_LEDGER: {
    exit: ExitCode.FAILURE,
    meaning: 'the ingest ledger in the state folder cannot be written (disk full, read-only, damaged)',
    hint: 'Free space or fix the permissions of the state folder named; the files are ingested again at the next start.',
  },
  E_WATCH_LIMIT: {exit: ExitCode.CONFIG, meaning: 'the system limit on file watches is exhausted'},
  E_NEO4J_UNAVAILABLE: {
    exit: ExitCode.UNAVAILABLE,
    meaning: 'Neo4j cannot be reached',
    hint: 'Check that Neo4j is running and NEO4J_URI points at its Bolt port; unset NEO4J_URI to run without the graph.',
  },
  E_NO_SERVICE: {
    exit: ExitCode.UNAVAILABLE,
    meaning: 'a change was saved but reached no running service',
    hint: 'Start the service (it applies the change at start), pick it with --service, or pass --offline.',
  },
  E_NEO4J_WRITE: {exit: ExitCode.FAILURE, meaning: 'Neo4j refused a write or a read'},
  E_CACHE: {exit: ExitCode.FAILURE, meaning: 'the parse cache cannot be opened, read or emptied'},
  E_CACHE_CORRUPT: {
    exit: ExitCode.FAILURE,
    meaning: 'the parse cache is damaged',
    hint: 'Run "lineage cache clear" to remove it and start an empty cache; it refills as files are parsed.',
  },
  E_LOCKED: {
    exit: ExitCode.FAILURE,
    meaning: 'a file is locked by another lineage process',
    hint: 'Wait for the other command to finish, then run this one again.',
  },
  E_SERVICE_MANAGER: {
    exit: ExitCode.FAILURE,
    meaning: 'systemctl, docker compose or kubectl failed while applying a change',
    hint: 'The flag state is saved; apply it by hand or fix the service manager settings and run again with --restart.',
  },
  E_SERVICE_UNHEALTHY: {
    exit: ExitCode.FAILURE,
    meaning: 'the service did not become healthy after a restart',
    hint: 'Check the service logs now; "lineage verify" shows what is wrong. The flag state is saved.',
  },
  E_INTERRUPTED: {exit: ExitCode.INTERRUPTED, meaning: 'interrupted by a signal'},
  E_INTERNAL: {exit: ExitCode.FAILURE, meaning: 'an unexpected failure (a bug, or a file changed underneath)'},
} as const satisfies Record<string, CatalogueEntry>

export type ErrorCode = keyof typeof ERRORS

export class LineageError extends Error {
  readonly code: ErrorCode
  readonly exit: ExitCodeValue
  readonly hint: string | undefined
  /** Facts a script may want beside the message (a count, a path); `--json` prints them as `details`. */
  readonly details: Record<string, unknown> | undefined

  /** `hint` replaces the catalogue's default hint for the code; pass null for none at all. */
  constructor(
    code: ErrorCode,
    message: string,
    hint?: string | null,
    options?: {cause?: unknown; details?: Record<string, unknown>},
  ) {
    super(message, options)
    this.details = options?.details
    const entry: CatalogueEntry = ERRORS[code]
    this.name = 'LineageError'
    this.code = code
    this.exit = entry.exit
    this.hint = hint === null ? undefined : (hint ?? entry.hint)
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
