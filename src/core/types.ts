/**
 * The lineage of one SQL file, as the extractor produces it and as it is cached, written to the output
 * folder and turned into graph entities. These field names are part of `lineage parse --json` and of
 * the output files: add fields freely, never rename or remove one.
 */

/** Where and why a statement (or the whole file) failed. */
export interface LineageIssue {
  /**
   * Stable code: E_PARSE, E_PARSE_TIMEOUT, E_PARSE_BUDGET (a statement over its time budget), E_WORKER_CRASHED,
   * E_NOT_TEXT, E_FILE_TOO_LARGE, E_TEMPLATE, ...
   */
  code: string
  message: string
  /** 1-based position in the file. */
  line: number
  column: number
  /** A short excerpt of the SQL around the position. */
  snippet: string
}

export interface ColumnLineage {
  /** Qualified target column, `table.column`. */
  target: string
  /** Qualified source columns, `table.column`; a source whose table is unknown is `?.column`. */
  sources: string[]
  /** True when some source could not be tied to a table (it is listed with a `?` table, never guessed). */
  unresolved?: boolean
}

export type StatementStatus = 'ok' | 'fallback' | 'failed' | 'skipped'

export interface StatementLineage {
  /** 0-based position of the statement in the file. */
  index: number
  /** Upper-case statement kind: SELECT, INSERT, CREATE TABLE, CREATE VIEW, MERGE, DROP, SET, ... */
  kind: string
  /** 1-based line and column where the statement starts. */
  line: number
  column: number
  sources: string[]
  targets: string[]
  columns: ColumnLineage[]
  /** Tables this statement drops, and renames it performs, so file-level lineage can apply them. */
  drops?: string[]
  renames?: {from: string; to: string}[]
  /**
   * Which grammar produced the result ('mysql', 'postgresql', ...), 'keywords' for fixed-form statements
   * read from their keywords (DROP, RENAME, COPY, SET, ...), or 'fallback' for the token scan.
   */
  grammar: string | null
  status: StatementStatus
  error: LineageIssue | null
  /** Non-fatal notes: unrendered placeholders, unresolved columns, a grammar skipped as too complex. */
  warnings?: string[]
  /**
   * Tables whose name as written differs from the resolved name in `sources`/`targets` (case folded by the
   * dialect's rules, qualified by the default database and schema): resolved name -> the name as written.
   */
  written?: Record<string, string>
  /** File or URI locations read or written (COPY, UNLOAD, INSERT OVERWRITE DIRECTORY, Spark `parquet.\`/p\``): not tables. */
  sourcePaths?: string[]
  targetPaths?: string[]
}

/**
 * `degraded`: every statement parsed, but some only by the token scan, so their column lineage is lost (also a
 * statement stopped at its time budget, E_PARSE_BUDGET: its tables are the token scan's).
 */
export type FileStatus = 'ok' | 'degraded' | 'partial' | 'failed'

export interface FileLineage {
  path: string
  /** The dialect the caller asked for (sqlfluff name). */
  dialect: string
  status: FileStatus
  /** Tables the file reads that nothing in it writes (combined as sqllineage does). */
  sources: string[]
  /** Tables the file writes that nothing in it reads afterwards (temporary tables collapse). */
  targets: string[]
  /** Column lineage of the whole file: written columns followed through the file to those it ends with. */
  columns?: ColumnLineage[]
  statements: StatementLineage[]
  errors: LineageIssue[]
  /** The extractor version that produced this; part of the parse cache key. */
  parserVersion: string
  /** Non-fatal notes about the whole file (template tags removed, no statements found). */
  warnings?: string[]
  /**
   * The parse budget ran out (E_PARSE_TIMEOUT): what is missing depends on how busy the machine was, not on
   * the SQL, so the lineage is not final: the service parses the file again with a longer budget.
   */
  incomplete?: true
}
