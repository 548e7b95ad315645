/**
 * What the valibot schemas of the core's external inputs share: JSON text to a value, a guard that keeps
 * arrays out where a JSON object is meant, and reading an issue's path. Pure; throws nothing.
 */
import * as v from 'valibot'

/** JSON text to a value, or why it is not JSON. */
export function parseJson(text: string): {ok: true; value: unknown} | {ok: false; error: string} {
  try {
    return {ok: true, value: JSON.parse(text) as unknown}
  } catch (error) {
    return {ok: false, error: error instanceof Error ? error.message : String(error)}
  }
}

/**
 * `schema` (an object or record schema) for a JSON object only: valibot takes any non-null `typeof 'object'`
 * value for one, arrays included, and an array of settings or overrides is a damaged file, not an empty one.
 */
export function jsonObject<TSchema extends v.GenericSchema>(schema: TSchema, message: string) {
  return v.pipe(
    v.unknown(),
    v.check((input) => !Array.isArray(input), message),
    schema,
  )
}

/** The keys from the top of the input down to where an issue is (record keys included). */
export function issueKeys(issue: v.BaseIssue<unknown>): string[] {
  return (issue.path ?? []).map((item) => String(item.key))
}
