/** Human output and flags shared by the commands that change flags (rollback ..., flags enable|disable|reset). */
import {Args, Flags} from '@oclif/core'

import {targetFlags} from '../base-command.js'
import {
  applyFlagChange,
  assertReached,
  checkRestart,
  FEATURES,
  type FlagApplyResult,
  type FlagChangeResult,
  type FlagOpContext,
  type Target,
} from '../core/index.js'

export function describeFlagChange(change: FlagChangeResult, apply: FlagApplyResult): string[] {
  const lines: string[] = []
  const verb = change.dryRun ? 'would change' : 'changed'
  if (change.changes.length === 0) {
    lines.push(`${change.action}: nothing to change${change.dryRun ? '' : ' (already in that state)'}.`)
  } else {
    lines.push(
      `${change.action}: ${verb} ${change.changes.length} value(s)${change.dryRun ? ' (dry run, nothing saved)' : `, revision ${change.revision}`}:`,
    )
    for (const c of change.changes) lines.push(`  ${c.key}: ${String(c.before)} -> ${String(c.after)}`)
  }
  lines.push(...change.effect)
  if (apply.restart) {
    lines.push(`Restarted through ${apply.restart.manager} in ${apply.restart.seconds.toFixed(1)} s; it is healthy.`)
  }
  if (apply.local.service === 'applied') {
    lines.push(`The running service (pid ${apply.local.pid ?? '?'}) applied it within ${apply.local.waitedMs} ms.`)
  } else if (apply.local.service === 'pending') {
    lines.push(
      `The running service (pid ${apply.local.pid ?? '?'}) has not applied it yet; check "lineage flags status".`,
    )
  } else if (!change.dryRun && change.written && !apply.restart) {
    lines.push('No running service uses this state folder: the change applies when it starts.')
  }
  if (change.next.length > 0) lines.push('Next:', ...change.next.map((n) => `  ${n}`))
  return lines
}

export type FlagChangeOutput = FlagChangeResult & {
  apply: FlagApplyResult
  target: {name: string; stateDir: string; pid: number | null}
}

/** The flags every flag-changing command takes. */
export const changeFlags = {
  reason: Flags.string({
    description: 'why: recorded in the audit log with your name and the time',
    env: 'LINEAGE_REASON',
  }),
  'dry-run': Flags.boolean({description: 'show what would change without saving anything'}),
  restart: Flags.boolean({
    description: 'also apply it through the service manager (LINEAGE_SERVICE_MANAGER) and wait until healthy',
    env: 'LINEAGE_RESTART',
  }),
  offline: Flags.boolean({
    description: 'no service is running: save the change for its next start (else exit 69 when none took it)',
    env: 'LINEAGE_OFFLINE',
  }),
  ...targetFlags,
}

export interface ChangeFlagValues {
  reason: string | undefined
  'dry-run': boolean
  restart: boolean
  offline: boolean
}

/**
 * Run one flag change on the target: refuse --restart without a manager before saving anything, save, apply,
 * print what happened, then fail with exit 69 if no running service took it (unless --offline).
 */
export async function runFlagChange(
  target: Target,
  flags: ChangeFlagValues,
  op: (ctx: FlagOpContext) => Promise<FlagChangeResult>,
  log: (line: string) => void,
): Promise<FlagChangeOutput> {
  if (flags.restart && !flags['dry-run']) checkRestart(target.input)
  const change = await op({settings: target.input, reason: flags.reason, dryRun: flags['dry-run']})
  const apply = await applyFlagChange(change, target.input, {restart: flags.restart})
  for (const line of describeFlagChange(change, apply)) log(line)
  assertReached(change, apply, flags.offline)
  return {
    ...change,
    apply,
    target: {name: target.name, stateDir: target.stateDir, pid: target.service?.pid ?? null},
  }
}

/** The FEATURE argument of `flags enable` and `flags disable`. */
export function featureArgs(verb: 'enable' | 'disable') {
  return {feature: Args.string({description: `feature to ${verb} (${FEATURES.join(', ')})`, required: true})}
}
