/**
 * The SQL lineage extractor's public API, used by `lineage parse` and by the ingestion pipeline (on the
 * main thread and inside worker threads). Everything here is synchronous and pure; importing it loads no
 * grammar (node-sql-parser builds load on first use, per grammar).
 *
 * - `extractLineage(sql, options)`: a file of SQL text to its FileLineage; never throws for bad SQL.
 * - `extractLineageFromBuffer(content, options)`: the same from raw bytes, refusing binary and non-UTF-8
 *   content with E_NOT_TEXT and stripping a UTF-8 byte order mark.
 * - `resolveDialect(name)`, `DIALECT_NAMES`: the accepted sqlfluff dialect names; an unknown one is a
 *   usage error (exit 64).
 * - `parseSchemaCatalogue(json)`: validates a `--schema` file (configuration error, exit 78, if bad).
 * - `PARSER_VERSION`: changes whenever extraction output can change (see version.ts).
 */
import type {FileLineage} from '../types.js'
import {extractLineage, fileFailure, type ExtractOptions} from './extract.js'
import {decodeSqlBuffer} from './text-guard.js'

export type {ColumnLineage, FileLineage, LineageIssue, StatementLineage} from '../types.js'
export {DIALECT_NAMES, resolveDialect} from './dialects.js'
export {extractLineage, fileFailure, type ExtractOptions, type StatementSpan} from './extract.js'
export {parseSchemaCatalogue, type SchemaCatalogue} from './schema.js'
export {PARSER_VERSION} from './version.js'

/** Lineage of raw file content: E_NOT_TEXT for binary or non-UTF-8 content, else `extractLineage`. */
export function extractLineageFromBuffer(content: Buffer, options: ExtractOptions): FileLineage {
  if (options.maxBytes !== undefined && content.length > options.maxBytes) {
    return fileFailure(
      options,
      'E_FILE_TOO_LARGE',
      `file is ${content.length} bytes, over the ${options.maxBytes}-byte limit`,
    )
  }
  const decoded = decodeSqlBuffer(content)
  if (!decoded.ok) return fileFailure(options, 'E_NOT_TEXT', decoded.message)
  return extractLineage(decoded.text, options)
}
export {
  collectTableDefinitions,
  sharedExtractOptions,
  parseSqlFiles,
  parseVarFlags,
  readParseInputs,
  readSchemaFile,
} from './parse-files.js'
export type {ParseFilesOptions, ParseFilesResult, ParseInputs} from './parse-files.js'
