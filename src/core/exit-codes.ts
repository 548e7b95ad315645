/**
 * The exit codes of every `lineage` command: one table, used by the commands, the man pages and the tests.
 * `verify` follows the monitoring-plugin convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
 */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  CRITICAL: 2,
  UNKNOWN: 3,
  USAGE: 64,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CONFIG: 78,
  INTERRUPTED: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** What each code means, in the order the man pages print them. */
export const EXIT_CODE_TABLE: readonly {code: ExitCodeValue; meaning: string}[] = [
  {code: ExitCode.OK, meaning: 'success; verify: everything healthy'},
  {
    code: ExitCode.FAILURE,
    meaning:
      'failure; verify: WARNING (degraded but working); retry-failed: some entries still failed; impact: a lineage change --fail-on names',
  },
  {code: ExitCode.CRITICAL, meaning: 'verify: CRITICAL (service down, or data at risk)'},
  {code: ExitCode.UNKNOWN, meaning: 'verify: UNKNOWN (a check could not be made)'},
  {code: ExitCode.USAGE, meaning: 'usage: bad flag, missing argument or bad value'},
  {code: ExitCode.UNAVAILABLE, meaning: 'a dependency (Neo4j) is unreachable'},
  {
    code: ExitCode.SOFTWARE,
    meaning: 'impact: the tool failed (what other commands report as 1), so CI tells it from a breaking change',
  },
  {code: ExitCode.CONFIG, meaning: 'configuration invalid'},
  {code: ExitCode.INTERRUPTED, meaning: 'interrupted (SIGINT)'},
]
