/**
 * Rollback and re-enablement: the runbook's manual steps as operations on the operator override state.
 *
 * Each operation computes the next state from the current one, writes it (with an audit entry) only when
 * something changes, and reports the effective values before and after. Running an operation twice
 * changes nothing the second time. None of them ever asks for confirmation. They are async because the
 * state's lock is waited for without blocking. Throws E_CONFIG for bad settings, E_STATE when the state is
 * damaged or stays locked.
 */
import {
  actorFromEnv,
  type FlagState,
  loadFlagState,
  mutateFlagState,
  overrideValues,
  type OverrideEntry,
  type RollbackRecord,
  type ValueChange,
} from './flag-state.js'
import {LineageError} from '../errors.js'
import {FEATURE_NOTES} from './feature-notes.js'

export {FEATURE_NOTES} from './feature-notes.js'
import {
  FEATURE_ENV,
  FEATURES,
  type Feature,
  resolveSettings,
  ROLLBACK_ORDER,
  type Settings,
  type SettingsInput,
  type SettingValue,
} from './settings.js'

export interface FlagOpContext {
  settings: SettingsInput
  actor?: string
  reason?: string | undefined
  dryRun?: boolean
  clock?: () => Date
}

export interface FlagChangeResult {
  action: string
  /** Effective values that change (or would, with --dry-run). */
  changes: ValueChange[]
  /** False when nothing needed changing (or --dry-run). */
  written: boolean
  dryRun: boolean
  revision: number
  stateDir: string
  rollback: RollbackRecord | null
  /** What this step does and what to watch afterwards (the runbook's effect and monitor notes). */
  effect: string[]
  next: string[]
}

const NEXT_AFTER_ROLLBACK = [
  'lineage flags status      # the service should show the new revision as applied',
  'lineage verify            # health check of the service, Neo4j and the backlog',
]

/** Accept `parallel`, `PARALLEL`, `parse_cache`, `FEATURE_PARSE_CACHE`, ... */
export function parseFeature(name: string): Feature {
  const normal = name
    .trim()
    .toLowerCase()
    .replace(/^feature_/, '')
    .replaceAll('_', '-')
  const feature = FEATURES.find((f) => f === normal)
  if (!feature) throw new LineageError('E_USAGE', `unknown feature "${name}"`, `Features: ${FEATURES.join(', ')}.`)
  return feature
}

function effective(input: SettingsInput, state: FlagState): Settings {
  return resolveSettings({...input, overrides: overrideValues(state)})
}

function valueOf(settings: Settings, key: string): SettingValue | undefined {
  return settings.values.find((v) => v.key === key)?.value
}

/** Apply `edit` to the state under the lock (or, for a dry run, to a copy) and describe the result. */
export async function change(
  ctx: FlagOpContext,
  action: string,
  edit: (state: FlagState, entry: (v: SettingValue) => OverrideEntry) => void,
): Promise<{result: Omit<FlagChangeResult, 'effect' | 'next'>; before: FlagState}> {
  const stateDir = resolveSettings(ctx.settings).stateDir
  const actor = ctx.actor ?? actorFromEnv()
  const at = (ctx.clock ?? (() => new Date()))().toISOString()
  const entry = (value: SettingValue): OverrideEntry => ({
    value,
    by: actor,
    at,
    ...(ctx.reason ? {reason: ctx.reason} : {}),
  })
  const diff = (from: FlagState, to: FlagState): ValueChange[] => {
    const a = effective(ctx.settings, from)
    const b = effective(ctx.settings, to)
    const keys = new Set([...Object.keys(from.overrides), ...Object.keys(to.overrides)])
    return [...keys]
      .filter(
        (k) =>
          JSON.stringify(from.overrides[k]?.value) !== JSON.stringify(to.overrides[k]?.value) ||
          valueOf(a, k) !== valueOf(b, k),
      )
      .map((k) => ({key: k, before: valueOf(a, k), after: valueOf(b, k)}))
  }
  const before = loadFlagState(stateDir)
  if (ctx.dryRun) {
    const next = structuredClone(before)
    edit(next, entry)
    settleRollback(next)
    const changes = diff(before, next)
    return {
      result: {
        action,
        changes,
        written: false,
        dryRun: true,
        revision: before.revision,
        stateDir,
        rollback: next.rollback,
      },
      before,
    }
  }
  const out = await mutateFlagState(stateDir, {
    action,
    actor,
    reason: ctx.reason,
    ...(ctx.clock ? {clock: ctx.clock} : {}),
    apply: (state) => {
      const original = structuredClone(state)
      edit(state, entry)
      settleRollback(state)
      return {next: state, changes: diff(original, state)}
    },
  })
  return {
    result: {
      action,
      changes: out.changes,
      written: out.written,
      dryRun: false,
      revision: out.state.revision,
      stateDir,
      rollback: out.state.rollback,
    },
    before,
  }
}

/** A rollback is over once none of the features it disabled is still held off by an override. */
function settleRollback(state: FlagState): void {
  if (!state.rollback) return
  const stillOff = Object.keys(state.rollback.before).some((k) => state.overrides[k]?.value === false)
  if (!stillOff) state.rollback = null
}

/** Disable `features`, remembering their previous overrides in the (possibly ongoing) rollback record. */
function disable(
  state: FlagState,
  features: readonly Feature[],
  kind: RollbackRecord['kind'],
  entry: (v: SettingValue) => OverrideEntry,
): void {
  const keys = features.map((f) => FEATURE_ENV[f]).filter((key) => state.overrides[key]?.value !== false)
  if (keys.length === 0) return
  const first = entry(false)
  state.rollback ??= {kind, by: first.by, at: first.at, before: {}, ...(first.reason ? {reason: first.reason} : {})}
  if (kind === 'emergency') state.rollback.kind = 'emergency'
  for (const key of keys) {
    if (!(key in state.rollback.before)) state.rollback.before[key] = state.overrides[key] ?? null
    state.overrides[key] = entry(false)
  }
}

export async function rollbackEmergency(ctx: FlagOpContext): Promise<FlagChangeResult> {
  const {result} = await change(ctx, 'rollback emergency', (state, entry) => {
    disable(state, FEATURES, 'emergency', entry)
  })
  return {
    ...result,
    effect: [
      'All five features are at their baseline: sequential parsing, no cache, no batching, one transaction per entity, only the runbook metrics (throughput, failures, queue, batch time).',
    ],
    next: NEXT_AFTER_ROLLBACK,
  }
}

/** Disable one feature, or the next one still on in the runbook's order. */
export async function rollbackGradual(ctx: FlagOpContext, feature?: Feature): Promise<FlagChangeResult> {
  const current = effective(ctx.settings, loadFlagState(resolveSettings(ctx.settings).stateDir))
  const target = feature ?? ROLLBACK_ORDER.find((f) => current.features[f])
  if (!target) {
    const stateDir = current.stateDir
    const state = loadFlagState(stateDir)
    return {
      action: 'rollback gradual',
      changes: [],
      written: false,
      dryRun: ctx.dryRun ?? false,
      revision: state.revision,
      stateDir,
      rollback: state.rollback,
      effect: ['Every feature of the gradual order is already off: the service runs at baseline.'],
      next: NEXT_AFTER_ROLLBACK,
    }
  }
  const {result} = await change(ctx, `rollback gradual ${target}`, (state, entry) => {
    disable(state, [target], 'gradual', entry)
  })
  const step = ROLLBACK_ORDER.indexOf(target)
  const nextFeature = ROLLBACK_ORDER.slice(step + 1).find((f) => current.features[f])
  return {
    ...result,
    effect: [
      ...(step >= 0 ? [`Step ${step + 1} of ${ROLLBACK_ORDER.length}: ${target} off.`] : []),
      ...FEATURE_NOTES[target].effect,
      FEATURE_NOTES[target].monitor,
    ],
    next: [
      ...NEXT_AFTER_ROLLBACK,
      ...(nextFeature ? [`lineage rollback gradual   # if the problem persists: disables ${nextFeature}`] : []),
    ],
  }
}

/** Put back the overrides that were in place before the active rollback began. */
export async function rollbackRestore(ctx: FlagOpContext): Promise<FlagChangeResult> {
  const {result, before} = await change(ctx, 'rollback restore', (state) => {
    const record = state.rollback
    if (!record) return
    for (const [key, previous] of Object.entries(record.before)) {
      if (previous) state.overrides[key] = previous
      else state.overrides = Object.fromEntries(Object.entries(state.overrides).filter(([k]) => k !== key))
    }
    state.rollback = null
  })
  return {
    ...result,
    effect: before.rollback
      ? [`The ${before.rollback.kind} rollback of ${before.rollback.at} by ${before.rollback.by} is undone.`]
      : ['No rollback is active: nothing to restore.'],
    next: ['lineage flags status', 'lineage verify'],
  }
}

/** `flags enable|disable FEATURE`. */
export async function setFeature(ctx: FlagOpContext, feature: Feature, enabled: boolean): Promise<FlagChangeResult> {
  const key = FEATURE_ENV[feature]
  const current = effective(ctx.settings, loadFlagState(resolveSettings(ctx.settings).stateDir))
  const {result} = await change(ctx, `flags ${enabled ? 'enable' : 'disable'} ${feature}`, (state, entry) => {
    state.overrides[key] = entry(enabled)
  })
  const effect = enabled ? [`${feature} on.`] : [...FEATURE_NOTES[feature].effect, FEATURE_NOTES[feature].monitor]
  // Re-enable in the reverse of the rollback order; say so when the operator skips ahead.
  const order = [...ROLLBACK_ORDER].reverse()
  const earlierOff = enabled
    ? order.slice(0, Math.max(0, order.indexOf(feature))).filter((f) => !current.features[f])
    : []
  if (earlierOff.length > 0) effect.push(`Note: the runbook re-enables ${earlierOff.join(', ')} before ${feature}.`)
  return {...result, effect, next: ['lineage flags status', 'lineage verify']}
}

/** `flags reset`: drop every override (the environment and defaults apply again). */
export async function resetFlags(ctx: FlagOpContext): Promise<FlagChangeResult> {
  const {result} = await change(ctx, 'flags reset', (state) => {
    state.overrides = {}
    state.rollback = null
  })
  return {
    ...result,
    effect: ['All operator overrides removed: the environment and defaults apply again.'],
    next: ['lineage flags status'],
  }
}
