/**
 * What `lineage parse` does, as a library call: read each file, build the schema catalogue (column
 * definitions of every CREATE TABLE in all the files given, then the `--schema` file on top), and
 * extract each file with it. A file that cannot be read gets a failed FileLineage (E_FILE_READ) and the
 * others go on. Throws only for usage errors (bad `--var`, unknown dialect: exit 64) and a bad schema
 * file (exit 78), before any file is parsed.
 */
import {readFileSync} from 'node:fs'

import {LineageError, errorMessage} from '../errors.js'
import type {FileLineage} from '../types.js'
import {dialectInfo} from './dialects.js'
import {extractLineage, type ExtractOptions, fileFailure} from './extract.js'
import {tokenize} from './lexer.js'
import {SchemaIndex, parseSchemaCatalogue, type SchemaCatalogue} from './schema.js'
import {extractCreateTable} from './special.js'
import {classify} from './classify.js'
import {splitStatements} from './splitter.js'
import {renderTemplate} from './template.js'
import {decodeSqlBuffer} from './text-guard.js'

/** What extractLineage takes, but for the path (each file's own) and how files are read. */
export interface ParseFilesOptions extends Omit<ExtractOptions, 'path'> {
  /** Injected for tests; defaults to fs.readFileSync. */
  readFile?: (path: string) => Buffer
}

export interface ParseFilesResult {
  files: FileLineage[]
}

/** `k=v` pairs from repeated `--var` flags; a usage error names the first malformed one. */
export function parseVarFlags(pairs: readonly string[] = []): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    const key = eq > 0 ? pair.slice(0, eq).trim() : ''
    if (!/^[A-Za-z_][\w.:-]*$/.test(key)) {
      throw new LineageError(
        'E_USAGE',
        `bad --var "${pair}": expected name=value`,
        'Example: --var run_date=2024-06-30',
      )
    }
    vars[key] = pair.slice(eq + 1)
  }
  return vars
}

/** Read and validate a `--schema` catalogue file (configuration error, exit 78, when unusable). */
export function readSchemaFile(path: string, read: (p: string) => Buffer = readFileSync): SchemaCatalogue {
  let json: unknown
  try {
    json = JSON.parse(read(path).toString('utf8'))
  } catch (error) {
    throw new LineageError('E_CONFIG', `cannot read schema catalogue ${path}: ${errorMessage(error)}`)
  }
  return parseSchemaCatalogue(json)
}

/** Column definitions of the CREATE TABLE statements in `sql` (a cheap pass: no grammar runs). */
export function collectTableDefinitions(
  sql: string,
  options: {dialect: string; vars?: Record<string, string>},
): SchemaCatalogue {
  const dialect = dialectInfo(options.dialect)
  const text = renderTemplate(sql, options.vars ?? {}, dialect.lex).text
  const out: SchemaCatalogue = {}
  for (const span of splitStatements(text, tokenize(text, dialect.lex), dialect.family)) {
    const stmt = text.slice(span.start, span.end)
    const tokens = tokenize(stmt, dialect.lex)
    const c = classify(tokens)
    if (c.route !== 'ddl') continue
    for (const d of extractCreateTable(stmt, tokens, c.at).defines) out[d.table] = d.columns
  }
  return out
}

/** What `lineage parse` extracts: each file's text (or the failure that says why it has none), and the schema. */
export interface ParseInputs {
  texts: (string | FileLineage)[]
  /** Column definitions of every CREATE TABLE in the files, with the `--schema` catalogue on top. */
  schema: SchemaCatalogue
}

/** Read the files and build their shared schema catalogue (a token pass: no grammar runs). */
export function readParseInputs(paths: readonly string[], options: ParseFilesOptions): ParseInputs {
  dialectInfo(options.dialect) // a usage error before any work
  const read = options.readFile ?? readFileSync
  const texts = paths.map((path) => readText(path, read, options))
  const definitions = new SchemaIndex()
  for (const t of texts) {
    if (typeof t !== 'string') continue
    // A bug in this cheap pass must not cost the whole run its JSON: the file is still extracted below,
    // where a failure becomes that file's status "failed" with the reason.
    let defined: SchemaCatalogue = {}
    try {
      defined = collectTableDefinitions(t, options)
    } catch {
      defined = {}
    }
    for (const [table, cols] of Object.entries(defined)) definitions.add(table, cols)
  }
  return {texts, schema: {...definitions.toCatalogue(), ...options.schema}}
}

/** Parse files as `lineage parse` does, in this thread (`lineage parse` itself isolates it: parse/isolated.ts). */
export function parseSqlFiles(paths: readonly string[], options: ParseFilesOptions): ParseFilesResult {
  const {texts, schema} = readParseInputs(paths, options)
  const files = texts.map((t, i) => {
    if (typeof t !== 'string') return t
    const path = paths[i] ?? ''
    return extractLineage(t, {...sharedExtractOptions(options), path, schema})
  })
  return {files}
}

/** The options of extractLineage that are the same for every file of a `lineage parse` run. */
export function sharedExtractOptions(o: ParseFilesOptions): Omit<ExtractOptions, 'path' | 'schema'> {
  return {
    dialect: o.dialect,
    ...(o.defaultDatabase ? {defaultDatabase: o.defaultDatabase} : {}),
    ...(o.defaultSchema ? {defaultSchema: o.defaultSchema} : {}),
    ...(o.vars ? {vars: o.vars} : {}),
    ...(o.maxBytes !== undefined ? {maxBytes: o.maxBytes} : {}),
    ...(o.deadlineMs !== undefined ? {deadlineMs: o.deadlineMs} : {}),
  }
}

/** The file's text, or the failed FileLineage that reports why it has none. */
function readText(path: string, read: (p: string) => Buffer, o: ParseFilesOptions): string | FileLineage {
  let content: Buffer
  try {
    content = read(path)
  } catch (error) {
    return fileFailure({path, dialect: o.dialect}, 'E_FILE_READ', `cannot read ${path}: ${errorMessage(error)}`)
  }
  if (o.maxBytes !== undefined && content.length > o.maxBytes) {
    return fileFailure(
      {path, dialect: o.dialect},
      'E_FILE_TOO_LARGE',
      `file is ${content.length} bytes, over the ${o.maxBytes}-byte limit`,
    )
  }
  const decoded = decodeSqlBuffer(content)
  return decoded.ok ? decoded.text : fileFailure({path, dialect: o.dialect}, 'E_NOT_TEXT', decoded.message)
}
