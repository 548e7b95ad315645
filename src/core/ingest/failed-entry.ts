/**
 * The lines of the failed-ingestion file as data: one valibot schema each for an entry (a graph write that
 * failed, with the exact rows it was to write) and a superseded marker, the types inferred from them, and the
 * parsing of one line. Lines are external input (the file may be edited, cut by a crash or written by another
 * release): they are parsed here, at the boundary, and nothing past it checks them again. Pure; throws nothing:
 * a line that is not an entry gets a reason, kept with it in the file.
 */
import * as v from 'valibot'

import type {FileRows} from '../graph/model.js'
import {issueKeys, jsonObject, parseJson} from '../util/schema.js'

const text = v.string()
const int = v.pipe(v.number(), v.integer())
const texts = v.array(text)

/** The rows of one upsert, as GraphWriter writes them (graph/model.ts FileRows). */
export const FileRowsSchema = v.object({
  file: v.object({
    path: text,
    contentHash: text,
    dialect: text,
    ingestedAt: text,
    incomplete: v.exactOptional(v.literal(true)),
  }),
  statements: v.array(
    v.object({
      id: text,
      index: int,
      kind: text,
      line: int,
      status: text,
      columnKeys: texts,
      unresolvedColumns: texts,
    }),
  ),
  tables: v.array(v.object({key: text, name: text})),
  columns: v.array(v.object({key: text, id: text, name: text, tableKey: text})),
  reads: v.array(v.object({statementId: text, tableKey: text, written: v.exactOptional(text)})),
  writes: v.array(v.object({statementId: text, tableKey: text, written: v.exactOptional(text)})),
  tableDerives: v.array(v.object({statementId: text, targetKey: text, sourceKey: text})),
  columnDerives: v.array(v.object({statementId: text, targetKey: text, sourceKey: text})),
}) satisfies v.GenericSchema<unknown, FileRows>

/** Rows parsed from JSON; null when anything is missing or of the wrong type. */
export function parseFileRows(value: unknown): FileRows | null {
  const parsed = v.safeParse(FileRowsSchema, value)
  return parsed.success ? parsed.output : null
}

/** What every entry has, checked first and in this order: the order of the reasons a bad line gets. */
const HEADER = {
  v: v.literal(1),
  id: text,
  path: text,
  opTime: text,
  error: text,
  code: text,
  /** When it last failed. */
  time: text,
  attempts: int,
  /**
   * The namespace of the path (graph/cypher); absent in entries written before namespaces, which replay into
   * the namespace of the replay (`retry-failed`'s current one).
   */
  namespace: v.optional(text),
  /** The upsert's content hash and dialect (retractions have none): what `retry-failed` compares with the graph. */
  contentHash: v.optional(text),
  dialect: v.optional(text),
}

const UpsertEntrySchema = v.pipe(
  v.object({
    ...HEADER,
    op: v.literal('upsert'),
    rows: FileRowsSchema,
  }),
  v.forward(
    v.check((e) => e.rows.file.path === e.path),
    ['rows'],
  ),
)

const RetractEntrySchema = v.pipe(
  v.object({...HEADER, op: v.literal('retract'), rows: v.object({path: text, at: text})}),
  v.forward(
    v.check((e) => e.rows.path === e.path),
    ['rows'],
  ),
)

/** A failed write: `opTime` (the upsert's ingestedAt, the retraction's time) orders the ops of one path. */
export const DeadLetterEntrySchema = v.pipe(
  jsonObject(v.looseObject(HEADER), 'not a JSON object'),
  v.variant('op', [UpsertEntrySchema, RetractEntrySchema]),
)
export type DeadLetterEntry = v.InferOutput<typeof DeadLetterEntrySchema>

/** A write of `path` made at `opTime` is in the graph: entries of the path older than that are superseded. */
export const SupersededMarkerSchema = v.object({
  v: v.literal(1),
  id: text,
  op: v.literal('superseded'),
  path: text,
  opTime: text,
  /** When the marker was written. */
  time: text,
})
export type SupersededMarker = v.InferOutput<typeof SupersededMarkerSchema>

/** A superseded marker, or undefined for any other line. */
export function parseMarker(line: string): SupersededMarker | undefined {
  // Most lines are entries: only those that can be markers are parsed twice.
  if (!line.includes('"superseded"')) return undefined
  const json = parseJson(line)
  if (!json.ok) return undefined
  const parsed = v.safeParse(SupersededMarkerSchema, json.value)
  return parsed.success ? parsed.output : undefined
}

/** Parse one line into an entry, or say why it is not one. */
export function parseEntry(line: string): DeadLetterEntry | string {
  const json = parseJson(line)
  if (!json.ok) return `not JSON: ${json.error}`
  const parsed = v.safeParse(DeadLetterEntrySchema, json.value)
  if (parsed.success) return parsed.output
  const [issue] = parsed.issues
  const [key] = issueKeys(issue)
  const input = json.value as Record<string, unknown>
  if (key === undefined) return 'not a JSON object'
  if (key === 'v') return `unknown version ${JSON.stringify(input.v)}`
  if (key === 'attempts') return 'field attempts missing or not an integer'
  if (key === 'op') return `unknown op ${JSON.stringify(input.op)}`
  if (key === 'rows') return input.op === 'retract' ? 'retraction rows invalid' : 'upsert rows invalid'
  return `field ${key} missing or not a string`
}
