/**
 * Live tuning: `flags set KEY VALUE` and `flags unset KEY` for the overridable numbers (INGEST_WORKERS,
 * BATCH_SIZE_THRESHOLD, DEBOUNCE_WINDOW_SECONDS), through the same audited override state as the features, so a
 * running service applies them within about a second (the pool grows or shrinks, the batcher takes the new size
 * and window at its next batch). While a rollback is active the value before is remembered in it, so
 * `rollback restore` puts tunables back too. Throws E_USAGE for an unknown key or a bad value (validated by the
 * setting's own schema), and what the flag state throws.
 */
import {LineageError} from '../errors.js'
import {change, type FlagChangeResult, type FlagOpContext} from './rollback.js'
import {parseValue, SETTINGS, type SettingKey, type SettingSpec} from './settings.js'

/** The settings `flags set` takes: overridable, and not a feature (those have enable/disable). */
export const TUNABLES: readonly SettingSpec[] = SETTINGS.filter((s) => s.overridable && s.kind !== 'bool')

export function parseTunable(name: string): SettingSpec {
  const spec = TUNABLES.find((s) => s.key === name.trim().toUpperCase())
  if (!spec) {
    throw new LineageError(
      'E_USAGE',
      `"${name}" is not a tunable setting`,
      `Tunables: ${TUNABLES.map((s) => s.key).join(', ')}. Features: lineage flags enable|disable FEATURE.`,
    )
  }
  return spec
}

function remember(state: Parameters<Parameters<typeof change>[2]>[0], key: SettingKey): void {
  if (state.rollback && !(key in state.rollback.before)) state.rollback.before[key] = state.overrides[key] ?? null
}

export async function setTunable(ctx: FlagOpContext, name: string, raw: string): Promise<FlagChangeResult> {
  const spec = parseTunable(name)
  const parsed = parseValue(spec, raw)
  if ('error' in parsed) {
    throw new LineageError('E_USAGE', parsed.error, `Allowed: ${spec.min ?? '?'} to ${spec.max ?? '?'}.`)
  }
  const {result} = await change(ctx, `flags set ${spec.key}`, (state, entry) => {
    remember(state, spec.key)
    state.overrides[spec.key] = entry(parsed.value)
  })
  return {
    ...result,
    effect: [`${spec.key} (${spec.description}) is ${String(parsed.value)}; a running service applies it at once.`],
    next: ['lineage flags status', `lineage flags unset ${spec.key}   # back to the environment or default`],
  }
}

export async function unsetTunable(ctx: FlagOpContext, name: string): Promise<FlagChangeResult> {
  const spec = parseTunable(name)
  const {result} = await change(ctx, `flags unset ${spec.key}`, (state) => {
    remember(state, spec.key)
    state.overrides = Object.fromEntries(Object.entries(state.overrides).filter(([k]) => k !== spec.key))
  })
  return {
    ...result,
    effect: [`${spec.key} override removed: the environment, config file or default applies again.`],
    next: ['lineage flags status'],
  }
}
