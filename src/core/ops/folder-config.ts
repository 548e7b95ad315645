/**
 * Per-folder session defaults: a `.lineage.json` in a folder of SQL files names the default database and
 * schema that qualify bare table names in the files of that folder and below, as a warehouse session's
 * `USE`/`search_path` would (issue 15). The nearest file wins, key by key, over the files above it, and all of
 * them over the settings (`LINEAGE_DEFAULT_DATABASE`/`_SCHEMA`, `--default-database`/`--default-schema`), the
 * way an `.editorconfig` nearer the file wins: one repository can hold the SQL of several warehouses.
 *
 *   {"defaultDatabase": "analytics", "defaultSchema": "sales"}
 *
 * Folders are read from `top` down (the watched folder; for `lineage parse`, the nearest folder holding
 * `.git`, else the file system root). A file that is not valid (not JSON, an unknown key, a value that is not a
 * non-empty string) is ignored as a whole and reported (`problems`, which reads such files again, so a fixed
 * one drops out): the folders above it still apply. What was read is kept until `forget()`, so a batch of
 * files reads each folder's file once. Throws nothing.
 */
import {readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

import * as v from 'valibot'

import {errorMessage} from '../errors.js'
import {issueKeys, jsonObject, parseJson} from '../util/schema.js'

export const FOLDER_CONFIG_FILE = '.lineage.json'

export interface NameDefaults {
  defaultDatabase?: string | undefined
  defaultSchema?: string | undefined
}

const name = v.pipe(v.string('must be a string'), v.trim(), v.nonEmpty('must not be empty'))
const FolderConfigSchema = jsonObject(
  v.strictObject({defaultDatabase: v.optional(name), defaultSchema: v.optional(name)}),
  'must be a JSON object',
)

export class FolderDefaults {
  /** Folder -> the defaults that hold in it (its own file over those above). */
  private readonly memo = new Map<string, NameDefaults>()
  /** Config file -> why it is ignored, as of the last read. */
  private readonly invalid = new Map<string, string>()

  /**
   * @param base the settings' defaults, under every file
   * @param top the highest folder read; undefined: the nearest folder holding `.git`, else the root
   */
  constructor(
    private readonly base: NameDefaults,
    private readonly top?: string,
  ) {}

  /** The defaults for the SQL file at `file` (absolute, or relative to the working directory). */
  for(file: string): NameDefaults {
    return this.folder(dirname(resolve(file)))
  }

  /** Read the folders' files again at the next `for` (they may have changed). */
  forget(): void {
    this.memo.clear()
  }

  /** The files ignored, each with why (`<file> ignored: <reason>`), as they are now: each is read again. */
  get problems(): string[] {
    for (const file of [...this.invalid.keys()]) this.read(file)
    return [...this.invalid].map(([file, why]) => `${file} ignored: ${why}`)
  }

  private folder(dir: string): NameDefaults {
    const known = this.memo.get(dir)
    if (known) return known
    const parent = dirname(dir)
    const above = this.isTop(dir) || parent === dir ? this.base : this.folder(parent)
    const here = {...above, ...this.read(join(dir, FOLDER_CONFIG_FILE))}
    this.memo.set(dir, here)
    return here
  }

  private isTop(dir: string): boolean {
    if (this.top !== undefined) {
      const rel = relative(resolve(this.top), dir)
      return rel === '' || rel.startsWith('..')
    }
    try {
      statSync(join(dir, '.git')) // a folder, or a file in a worktree
      return true
    } catch {
      return false
    }
  }

  private read(file: string): NameDefaults {
    this.invalid.delete(file)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.invalid.set(file, `cannot be read: ${errorMessage(error)}`)
      return {}
    }
    const json = parseJson(text)
    if (!json.ok) {
      this.invalid.set(file, `not JSON: ${json.error}`)
      return {}
    }
    const parsed = v.safeParse(FolderConfigSchema, json.value)
    if (!parsed.success) {
      const issue = parsed.issues[0]
      const key = issueKeys(issue).join('.')
      const why =
        issue.type === 'strict_object' ? `unknown key "${key}"` : key ? `${key} ${issue.message}` : issue.message
      this.invalid.set(file, `${why} (the keys are defaultDatabase and defaultSchema)`)
      return {}
    }
    const out: NameDefaults = {}
    if (parsed.output.defaultDatabase !== undefined) out.defaultDatabase = parsed.output.defaultDatabase
    if (parsed.output.defaultSchema !== undefined) out.defaultSchema = parsed.output.defaultSchema
    return out
  }
}
