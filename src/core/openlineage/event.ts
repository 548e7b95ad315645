/**
 * One OpenLineage RunEvent per ingested SQL file (spec 2-0-2), built from what the output record holds, so
 * `lineage export` and the `watch` emitter produce the same event for the same ingestion, byte for byte.
 *
 * - job: namespace = the lineage namespace (ops/namespace.ts), name = the file's path relative to the watched
 *   folder; facet `sql` (SQLJobFacet 1-1-0): the file's SQL text and its dialect, when the text is known.
 * - inputs, outputs: the tables the file reads and writes as a whole (FileLineage.sources and .targets: a
 *   temporary table written and read inside the file is neither), in the same namespace as the job (the SQL
 *   does not say which warehouse it runs on, which is what OpenLineage's dataset naming would want there).
 * - outputs carry `columnLineage` (ColumnLineageDatasetFacet 1-2-0): each written column with the columns it
 *   derives from; a source whose table is unknown (`?.col`) is left out, as the graph leaves it out, and so is
 *   a `*` the extractor could not expand (no schema given).
 * - eventType COMPLETE, eventTime = when the file was ingested (the record's `ingestedAt`).
 * - runId: a UUID v7 whose time is `ingestedAt` and whose other bits come from the SHA-256 of the namespace,
 *   path, content hash and time: time-ordered like the reference client's UUIDs, and reproducible, so exporting
 *   the same output folder twice gives the same events and re-sending them updates the same runs, never
 *   duplicates them.
 * Pure; throws nothing.
 */
import {createHash} from 'node:crypto'
import {createRequire} from 'node:module'

import {splitColumn} from '../graph/model.js'
import type {ColumnLineage} from '../types.js'

export const OPENLINEAGE_SPEC = '2-0-2'
export const RUN_EVENT_SCHEMA_URL = `https://openlineage.io/spec/${OPENLINEAGE_SPEC}/OpenLineage.json#/$defs/RunEvent`
export const SQL_FACET_SCHEMA_URL = 'https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet'
export const COLUMN_LINEAGE_FACET_SCHEMA_URL =
  'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet'

interface PackageJson {
  name?: string
  version?: string
  homepage?: string
  repository?: string | {url?: string}
}

/**
 * The `producer` URI: lineage and its version. The package's `repository` (or `homepage`) with `/tree/v<version>`
 * when package.json names one, else the npm registry page of the package at that version.
 */
export const PRODUCER: string = (() => {
  let pkg: PackageJson = {}
  try {
    pkg = createRequire(import.meta.url)('../../../package.json') as PackageJson
  } catch {
    // the package file is part of every install; without it the name and version below stand in
  }
  const name = pkg.name ?? 'lineage'
  const version = pkg.version ?? '0.0.0'
  const repo = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? pkg.homepage)
  const base = repo?.replace(/^git\+/, '').replace(/\.git$/, '')
  return base?.startsWith('https://')
    ? `${base}/tree/v${version}`
    : `https://www.npmjs.com/package/${name}/v/${version}`
})()

export interface InputField {
  namespace: string
  name: string
  field: string
}

export interface Dataset {
  namespace: string
  name: string
}

export interface OutputDataset extends Dataset {
  facets?: {
    columnLineage: {
      _producer: string
      _schemaURL: string
      fields: Record<string, {inputFields: InputField[]}>
    }
  }
}

export interface RunEvent {
  eventType: 'COMPLETE'
  eventTime: string
  producer: string
  schemaURL: string
  run: {runId: string}
  job: {
    namespace: string
    name: string
    facets?: {sql: {_producer: string; _schemaURL: string; query: string; dialect: string}}
  }
  inputs: Dataset[]
  outputs: OutputDataset[]
}

/** What one ingestion of one file gives an event: the output record's fields, and the SQL text when known. */
export interface EventSource {
  /** Relative to the watched folder. */
  path: string
  contentHash: string
  /** ISO time the file was ingested. */
  ingestedAt: string
  dialect: string
  sources: string[]
  targets: string[]
  /** File-level column lineage; undefined in records of older versions (statement columns stand in). */
  columns: ColumnLineage[] | undefined
  statementColumns: ColumnLineage[]
  /** The SQL the lineage was extracted from; undefined when it is no longer there to read. */
  sql: string | undefined
}

export function buildRunEvent(source: EventSource, namespace: string): RunEvent {
  const outputs = new Map<string, Map<string, InputField[]>>()
  for (const t of source.targets) outputs.set(t, new Map())
  const inputs = new Set(source.sources)
  for (const col of source.columns ?? source.statementColumns) {
    const target = splitColumn(col.target)
    const fields = target && outputs.get(target.table)
    // A column of a table the file does not end up writing (a temporary table) is not part of its outputs; a
    // `*` the extractor could not expand (no schema) names no field.
    if (!target || !fields || target.column === '*') continue
    const list = fields.get(target.column) ?? []
    for (const s of col.sources) {
      const from = splitColumn(s)
      if (!from || from.column === '*') continue
      if (list.some((f) => f.name === from.table && f.field === from.column)) continue
      list.push({namespace, name: from.table, field: from.column})
      inputs.add(from.table)
    }
    if (list.length > 0) fields.set(target.column, list)
  }
  const event: RunEvent = {
    eventType: 'COMPLETE',
    eventTime: source.ingestedAt,
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run: {runId: runId(namespace, source.path, source.contentHash, source.ingestedAt)},
    job: {namespace, name: source.path},
    inputs: [...inputs].map((name) => ({namespace, name})),
    outputs: [...outputs].map(([name, fields]) =>
      fields.size === 0
        ? {namespace, name}
        : {
            namespace,
            name,
            facets: {
              columnLineage: {
                _producer: PRODUCER,
                _schemaURL: COLUMN_LINEAGE_FACET_SCHEMA_URL,
                fields: Object.fromEntries([...fields].map(([field, inputFields]) => [field, {inputFields}])),
              },
            },
          },
    ),
  }
  if (source.sql !== undefined) {
    event.job.facets = {
      sql: {_producer: PRODUCER, _schemaURL: SQL_FACET_SCHEMA_URL, query: source.sql, dialect: source.dialect},
    }
  }
  return event
}

/**
 * A UUID v7 (RFC 9562): the 48-bit Unix time in ms of `time`, then the version, 74 bits of the SHA-256 of the
 * parts, and the variant. Same parts, same UUID.
 */
export function runId(namespace: string, path: string, contentHash: string, time: string): string {
  const hash = createHash('sha256').update([namespace, path, contentHash, time].join('\0')).digest()
  const bytes = Buffer.alloc(16)
  hash.copy(bytes, 6, 0, 10)
  const ms = Date.parse(time)
  bytes.writeUIntBE(Number.isFinite(ms) && ms >= 0 ? ms : 0, 0, 6)
  bytes.writeUInt8(0x70 | (bytes.readUInt8(6) & 0x0f), 6)
  bytes.writeUInt8(0x80 | (bytes.readUInt8(8) & 0x3f), 8)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
