/**
 * The input side of `impact`: which files changed, relative to the watched folder (the paths given, or
 * `git diff --name-only RANGE` run in it), and each one's lineage as the service would record it now (one
 * file at a time, the configured dialect and session defaults, with its folders' `.lineage.json`), or none for a file that no longer exists.
 * Throws LineageError E_USAGE for paths outside the watched folder or not ingested, a bad or failing git
 * range, and a file that cannot be read.
 */
import {readFileSync, statSync} from 'node:fs'
import {isAbsolute, relative, resolve, sep} from 'node:path'

import {errorMessage, LineageError} from '../errors.js'
import {isWatchedPath} from '../ingest/watcher.js'
import {FolderDefaults} from '../ops/folder-config.js'
import {fileFailure} from '../sql/extract.js'
import {extractLineageFromBuffer} from '../sql/index.js'
import type {FileLineage} from '../types.js'

/** Where the changed files are and how the service parses them. */
export interface ChangeSource {
  /** The watched folder: paths are relative to it, and `git diff` runs in it. */
  rawDir: string
  extensions: readonly string[]
  /** Changed files as given (absolute, or relative to `cwd`); exclusive with `gitRange`. */
  paths?: readonly string[]
  gitRange?: string
  cwd?: string
  dialect: string
  defaultDatabase?: string | undefined
  defaultSchema?: string | undefined
  maxBytes: number
  deadlineMs: number
}

/** The changed files, relative to the watched folder, sorted, each once. */
export async function changedPaths(options: ChangeSource): Promise<string[]> {
  const rawDir = resolve(options.rawDir)
  if (options.gitRange !== undefined) {
    if (options.paths && options.paths.length > 0) {
      throw new LineageError('E_USAGE', 'give changed files or --git RANGE, not both')
    }
    const listed = await gitChangedFiles(rawDir, options.gitRange)
    return [...new Set(listed.filter((rel) => isWatchedPath(rel, options.extensions)))].sort()
  }
  if (!options.paths || options.paths.length === 0) {
    throw new LineageError('E_USAGE', 'no changed files given', 'Name the SQL files, or pass --git RANGE.')
  }
  const out = new Set<string>()
  for (const given of options.paths) {
    const rel = relative(rawDir, resolve(options.cwd ?? process.cwd(), given))
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new LineageError(
        'E_USAGE',
        `${given} is not inside the watched folder ${rawDir}`,
        'Set LINEAGE_RAW_DIR (or --raw) to the folder the service watches.',
      )
    }
    if (!isWatchedPath(rel, options.extensions)) {
      throw new LineageError(
        'E_USAGE',
        `${given} is not a file the service ingests (extensions: ${options.extensions.join(', ')}; no dot folders)`,
        'Set LINEAGE_EXTENSIONS to the extensions the service watches.',
      )
    }
    out.add(rel)
  }
  return [...out].sort()
}

/** `git diff --name-only --no-renames RANGE` in the watched folder, paths relative to it. */
async function gitChangedFiles(rawDir: string, range: string): Promise<string[]> {
  if (range === '' || range.startsWith('-')) {
    throw new LineageError('E_USAGE', `bad --git range "${range}"`, 'Example: --git origin/main...HEAD')
  }
  const {execa} = await import('execa')
  try {
    // --relative: paths from the watched folder, and nothing outside it; --no-renames: a move is a delete
    // of the old path (its edges removed) and an add of the new one.
    const {stdout} = await execa('git', ['diff', '--name-only', '--no-renames', '--relative', '-z', range, '--'], {
      cwd: rawDir,
      stripFinalNewline: false,
    })
    return stdout
      .split('\0')
      .filter((p) => p !== '')
      .map((p) => p.split('/').join(sep))
  } catch (error) {
    const stderr = (error as {stderr?: unknown}).stderr
    const why = typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim().split('\n')[0] : errorMessage(error)
    throw new LineageError(
      'E_USAGE',
      `git diff ${range} failed in ${rawDir}: ${why}`,
      'The watched folder (LINEAGE_RAW_DIR) must be inside a git checkout that has both ends of the range (fetch them in CI).',
    )
  }
}

/** The file's lineage as the service would record it now, or undefined when the file does not exist. */
export function newLineage(path: string, options: ChangeSource): FileLineage | undefined {
  const abs = resolve(options.rawDir, path)
  let content: Buffer
  try {
    const st = statSync(abs)
    if (!st.isFile()) throw new LineageError('E_USAGE', `${abs} is not a regular file`)
    if (st.size > options.maxBytes) {
      const why = `file is ${st.size} bytes, over the ${options.maxBytes}-byte limit`
      return fileFailure({path, dialect: options.dialect}, 'E_FILE_TOO_LARGE', why)
    }
    content = readFileSync(abs)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    if (error instanceof LineageError) throw error
    throw new LineageError('E_USAGE', `cannot read ${abs}: ${errorMessage(error)}`, null)
  }
  // The defaults the service parses the file with: its folders' .lineage.json over the settings.
  const base = {defaultDatabase: options.defaultDatabase, defaultSchema: options.defaultSchema}
  const defaults = new FolderDefaults(base, options.rawDir).for(abs)
  return extractLineageFromBuffer(content, {
    path,
    dialect: options.dialect,
    ...(defaults.defaultDatabase ? {defaultDatabase: defaults.defaultDatabase} : {}),
    ...(defaults.defaultSchema ? {defaultSchema: defaults.defaultSchema} : {}),
    maxBytes: options.maxBytes,
    deadlineMs: options.deadlineMs,
  })
}
