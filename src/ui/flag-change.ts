/** Human output and flags shared by the commands that change flags (rollback ..., flags enable|disable|reset). */
import {Args, Flags} from '@oclif/core'
import {
  applyFlagChange,
  FEATURES,
  parseFeature,
  setFeature,
  type FlagApplyResult,
  type FlagChangeResult,
  type SettingsInput,
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
    lines.push(
      'No running service found here; the change applies when it starts (or use --restart with a service manager).',
    )
  }
  if (change.next.length > 0) lines.push('Next:', ...change.next.map((n) => `  ${n}`))
  return lines
}

export type FlagChangeOutput = FlagChangeResult & {apply: FlagApplyResult}

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
}

/** Apply a saved change, print what happened, and return the JSON result. */
export async function finishFlagChange(
  change: FlagChangeResult,
  input: SettingsInput,
  restart: boolean,
  log: (line: string) => void,
): Promise<FlagChangeOutput> {
  const apply = await applyFlagChange(change, input, {restart})
  for (const line of describeFlagChange(change, apply)) log(line)
  return {...change, apply}
}

/** The FEATURE argument of `flags enable` and `flags disable`. */
export function featureArgs(verb: 'enable' | 'disable') {
  return {feature: Args.string({description: `feature to ${verb} (${FEATURES.join(', ')})`, required: true})}
}

/** `flags enable|disable FEATURE`: save the override, apply it, print what happened. */
export async function switchFeature(
  options: {
    feature: string
    value: boolean
    config: string | undefined
    reason: string | undefined
    dryRun: boolean
    restart: boolean
  },
  log: (line: string) => void,
): Promise<FlagChangeOutput> {
  const input = {configFile: options.config}
  const change = await setFeature(
    {settings: input, reason: options.reason, dryRun: options.dryRun},
    parseFeature(options.feature),
    options.value,
  )
  return finishFlagChange(change, input, options.restart, log)
}
