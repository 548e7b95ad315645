/**
 * What an OpenLineage event is made of, read from the output folder: the record `OUT/<path>.lineage.json`
 * (ingest/file-task.ts) and, for the SQL facet, the file itself in the watched folder, taken only while its
 * SHA-256 is still the record's content hash (a file changed since is not the SQL the lineage came from).
 * Files whose parse failed as a whole (status `failed`) give no event: they hold no lineage, and an event with
 * no inputs or outputs would tell a consumer the job stopped reading and writing. Never throws.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import * as v from 'valibot'

import {sha256} from '../util/fs.js'
import type {EventSource} from './event.js'

const texts = v.array(v.string())
const columns = v.array(v.object({target: v.string(), sources: texts}))

const RecordSchema = v.object({
  contentHash: v.string(),
  ingestedAt: v.string(),
  lineage: v.object({
    path: v.string(),
    dialect: v.string(),
    status: v.string(),
    sources: texts,
    targets: texts,
    columns: v.optional(columns),
    statements: v.array(v.object({columns})),
  }),
})

export type RecordRead =
  | {kind: 'event'; source: EventSource}
  /** A record of a file whose parse failed: no lineage to send. */
  | {kind: 'failed'; path: string}
  | {kind: 'invalid'}

/** Parse an output record's text; `rawDir` is where the SQL file is read from for the SQL facet. */
export function eventSourceOf(text: string, rawDir: string | undefined): RecordRead {
  let parsed
  try {
    parsed = v.safeParse(RecordSchema, JSON.parse(text))
  } catch {
    return {kind: 'invalid'}
  }
  if (!parsed.success) return {kind: 'invalid'}
  const {contentHash, ingestedAt, lineage} = parsed.output
  if (lineage.status === 'failed') return {kind: 'failed', path: lineage.path}
  return {
    kind: 'event',
    source: {
      path: lineage.path,
      contentHash,
      ingestedAt,
      dialect: lineage.dialect,
      sources: lineage.sources,
      targets: lineage.targets,
      columns: lineage.columns,
      statementColumns: lineage.statements.flatMap((s) => s.columns),
      sql: rawDir === undefined ? undefined : readSql(join(rawDir, lineage.path), contentHash),
    },
  }
}

/** Read an output record file; a missing or unreadable file is `invalid`. */
export function readEventSource(recordFile: string, rawDir: string | undefined): RecordRead {
  let text: string
  try {
    text = readFileSync(recordFile, 'utf8')
  } catch {
    return {kind: 'invalid'}
  }
  return eventSourceOf(text, rawDir)
}

/** The SQL file's text while its content is still `contentHash`; undefined when changed, gone or unreadable. */
export function readSql(file: string, contentHash: string): string | undefined {
  try {
    const content = readFileSync(file)
    return sha256(content) === contentHash ? content.toString('utf8') : undefined
  } catch {
    return undefined
  }
}
