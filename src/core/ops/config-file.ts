/**
 * The `--config` file: a JSON object of settings (names as in SETTING_DEFS). Throws E_CONFIG when it cannot be
 * read, is not JSON or not an object, or names an unknown setting; given a `problems` list (tolerant
 * resolution, the on-call commands) unknown names are reported there and left out instead.
 */
import {readFileSync} from 'node:fs'

import * as v from 'valibot'

import {LineageError} from '../errors.js'
import {jsonObject, parseJson} from '../util/schema.js'
import {SETTING_DEFS} from './setting-defs.js'

const KNOWN_KEYS = new Set<string>(Object.keys(SETTING_DEFS))

/** The `--config` file: a JSON object of settings; each value is parsed with its setting, where it wins. */
const ConfigFileSchema = jsonObject(
  v.pipe(
    v.record(v.string(), v.unknown(), 'must hold a JSON object of settings'),
    v.rawCheck(({dataset, addIssue}) => {
      if (!dataset.typed) return
      const unknownKeys = Object.keys(dataset.value).filter((k) => !KNOWN_KEYS.has(k))
      if (unknownKeys.length > 0) addIssue({message: `has unknown settings: ${unknownKeys.join(', ')}`})
    }),
  ),
  'must hold a JSON object of settings',
)

export function readConfigFile(file: string, problems: string[] | undefined): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new LineageError('E_CONFIG', `cannot read config file ${file}: ${(error as Error).message}`)
  }
  const json = parseJson(text)
  if (!json.ok) throw new LineageError('E_CONFIG', `config file ${file} is not valid JSON: ${json.error}`)
  const parsed = v.safeParse(ConfigFileSchema, json.value)
  if (!parsed.success && problems && isRecord(json.value)) {
    // Tolerant: unknown keys are reported and left out; the known ones still count.
    problems.push(`config file ${file} ${parsed.issues[0].message}`)
    return Object.fromEntries(Object.entries(json.value).filter(([k]) => KNOWN_KEYS.has(k)))
  }
  if (!parsed.success) throw new LineageError('E_CONFIG', `config file ${file} ${parsed.issues[0].message}`)
  return parsed.output
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
