/**
 * The human form of `lineage parse` results: per file a heading, a table of its statements (line, kind,
 * reads, writes, column count, status and the grammar that read it), the file-level sources and
 * targets, and each error as `file:line:col: message` with the offending line. Colours only when the
 * caller says the output is a terminal that wants them (cli-table3 would otherwise print escape codes
 * into pipes).
 */
import Table from 'cli-table3'
import {type FileLineage, type StatementLineage} from '../core/index.js'

export interface ReportOptions {
  color: boolean
}

const MAX_NAMES = 4

/** The report printed on stdout. */
export function formatParseReport(files: readonly FileLineage[], opts: ReportOptions): string {
  return files.map((f) => formatFile(f, opts)).join('\n\n')
}

/** Warnings for stderr, one line each, prefixed with `file:line`. */
export function parseWarnings(files: readonly FileLineage[]): string[] {
  const out: string[] = []
  for (const f of files) {
    for (const w of f.warnings ?? []) out.push(`${f.path}: warning: ${w}`)
    for (const s of f.statements) for (const w of s.warnings ?? []) out.push(`${f.path}:${s.line}: warning: ${w}`)
  }
  return out
}

function formatFile(f: FileLineage, opts: ReportOptions): string {
  const counts = `${f.statements.length} statement${f.statements.length === 1 ? '' : 's'}`
  const lines = [`${f.path} (${f.dialect}): ${f.status}, ${counts}`]
  if (f.statements.length > 0) lines.push(statementTable(f.statements, opts))
  lines.push(`sources: ${f.sources.join(', ') || '(none)'}`, `targets: ${f.targets.join(', ') || '(none)'}`)
  for (const e of f.errors) {
    lines.push(`${f.path}:${e.line}:${e.column}: ${e.code}: ${e.message}`)
    if (e.snippet) lines.push(`    ${e.snippet.trim()}`)
  }
  return lines.join('\n')
}

function statementTable(statements: readonly StatementLineage[], opts: ReportOptions): string {
  const style = opts.color ? {} : {head: [], border: []}
  const table = new Table({head: ['#', 'line', 'kind', 'reads', 'writes', 'columns', 'status'], style})
  for (const s of statements) {
    const status = s.status === 'ok' || s.status === 'fallback' ? `${s.status} (${s.grammar ?? '-'})` : s.status
    table.push([
      String(s.index + 1),
      String(s.line),
      s.kind,
      names(s.sources, s.sourcePaths),
      names(s.targets, s.targetPaths),
      String(s.columns.length),
      status,
    ])
  }
  return table.toString()
}

function names(tables: readonly string[], paths: readonly string[] = []): string {
  const all = [...tables, ...paths.map((p) => `'${p}'`)]
  if (all.length <= MAX_NAMES) return all.join('\n') || '-'
  return [...all.slice(0, MAX_NAMES), `(+${all.length - MAX_NAMES} more)`].join('\n')
}
