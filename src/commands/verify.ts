import {join} from 'node:path'

import {Flags} from '@oclif/core'

import {BaseCommand, targetFlags} from '../base-command.js'
import {resolveSettings, verify, type VerifyResult} from '../core/index.js'

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Check the health of the service, its graph and its backlog (for cron and monitoring)'
  static override description = `Runs each check and reports OK, WARNING, CRITICAL or UNKNOWN with a one-line reason: \
configuration; flag state (an active rollback is a WARNING); the service alive (its /healthz, or systemctl is-active \
under systemd); the metrics endpoint serving the expected names; Neo4j reachable with its constraints; parse cache \
integrity; the failed-ingestion backlog; and a canary: a small SQL file dropped into the watched folder must reach \
the output folder and the graph, after which it is removed. The exit status follows the monitoring-plugin convention \
(0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and a total timeout bounds the run. Each run writes a node_exporter textfile \
with the status and, when OK, the time of the last success; a textfile it cannot write is a WARNING (check \
"textfile").

The first line is a monitoring plugin's: status, reason, and after "|" the performance data Nagios and Icinga \
graph (each check's time in ms, the canary's seconds, the failed-ingestion backlog, the queue size and the age of \
the last batch). A --timeout shorter than the debounce window plus 5 s is extended (the run says so): the canary \
cannot arrive sooner. The examples include a Nagios or Icinga command definition.`

  static override examples = [
    {description: 'Check everything', command: '<%= config.bin %> <%= command.id %>'},
    {
      description: 'From cron, as JSON, within 30 seconds',
      command: '<%= config.bin %> <%= command.id %> --timeout 30 --json',
    },
    {description: 'Without the canary file', command: '<%= config.bin %> <%= command.id %> --no-canary'},
    {
      description: 'As a Nagios or Icinga 1 check (commands.cfg); the perfdata after "|" is graphed as it is',
      command: [
        'define command {',
        '    command_name  check_lineage',
        '    command_line  /usr/bin/<%= config.bin %> <%= command.id %> --timeout 30',
        '}',
      ].join('\n'),
    },
  ]

  static override flags = {
    timeout: Flags.integer({
      description: 'total time limit in seconds',
      default: 60,
      min: 1,
      env: 'LINEAGE_VERIFY_TIMEOUT',
    }),
    canary: Flags.boolean({
      description: 'drop a canary SQL file and wait for its lineage',
      default: true,
      allowNo: true,
    }),
    textfile: Flags.string({
      description:
        'node_exporter textfile to record the result in (default STATE_DIR/lineage_verify.prom; "" for none)',
      env: 'LINEAGE_VERIFY_TEXTFILE',
    }),
    ...targetFlags,
  }

  public async run(): Promise<VerifyResult> {
    // The status line stays the first line of stdout (the monitoring-plugin convention): the target goes to stderr.
    const input = this.target(this.flags, {stderr: true}).input
    let textfile: string | null = this.flags.textfile === '' ? null : (this.flags.textfile ?? null)
    if (this.flags.textfile === undefined) {
      try {
        textfile = join(resolveSettings(input).stateDir, 'lineage_verify.prom')
      } catch {
        textfile = null
      }
    }
    const result = await verify({
      settings: input,
      timeoutMs: this.flags.timeout * 1000,
      canary: this.flags.canary,
      textfile,
    })
    const worst = result.checks.filter((c) => c.status === result.status && c.status !== 'OK')
    const reason =
      worst.length > 0
        ? worst.map((c) => `${c.name}: ${c.message}`).join('; ')
        : `${result.checks.length} checks passed`
    this.log(`LINEAGE ${result.status} - ${reason.replaceAll('|', '/')} | ${result.perfdata}`)
    for (const c of result.checks) this.log(`  ${c.status.padEnd(8)} ${c.name.padEnd(8)} ${c.message}`)
    this.exitStatus = result.exitCode
    return result
  }
}
