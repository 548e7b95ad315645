/**
 * `lineage export --format openlineage`: one RunEvent per lineage record of the output folder
 * (`OUT/**\/*.lineage.json`, in path order), to a callback (stdout), to a file as NDJSON written atomically
 * (the old file stays whole until the new one is complete), or POSTed to an OpenLineage HTTP endpoint one
 * event per request with retries (transport.ts). Once an event could not be delivered because the endpoint is
 * unreachable after its retries, the rest are not tried (each would wait the same way) and count as
 * undelivered; an event the endpoint refuses (4xx) counts as undelivered and the next one is sent.
 * Throws LineageError E_USAGE when the output folder does not exist or the URL is not http(s), and the file
 * system's error when the NDJSON file cannot be written.
 */
import {readdirSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {LineageError} from '../errors.js'
import {writeFileAtomic} from '../util/fs.js'
import {buildRunEvent} from './event.js'
import {readEventSource} from './source.js'
import {DEFAULT_RETRY, parseEndpoint, type RetryPolicy, send} from './transport.js'

const OUTPUT_SUFFIX = '.lineage.json'

export type ExportDestination =
  {kind: 'lines'; write: (line: string) => void} | {kind: 'file'; file: string} | {kind: 'http'; url: string}

export interface ExportOptions {
  outDir: string
  /** The watched folder, read for the SQL facet; undefined: events carry no SQL text. */
  rawDir: string | undefined
  namespace: string
  to: ExportDestination
  retry?: RetryPolicy
}

export interface ExportResult {
  namespace: string
  /** Where the events went: `stdout`, the file, or the URL without its credentials. */
  destination: string
  /** Events built (one per record with lineage). */
  events: number
  delivered: number
  undelivered: number
  /** Why the first undelivered event was not delivered. */
  firstError: string | null
  /** Records of files whose parse failed as a whole: no event. */
  failedFiles: number
  /** Events without the SQL facet: the SQL file is gone or changed since it was ingested. */
  withoutSql: number
  /** Output files that are not lineage records, relative to the folder. */
  invalid: string[]
  seconds: number
}

export async function exportOpenLineage(options: ExportOptions): Promise<ExportResult> {
  const started = performance.now()
  const outDir = resolve(options.outDir)
  if (!isDirectory(outDir)) {
    throw new LineageError(
      'E_USAGE',
      `output folder ${outDir} does not exist`,
      'Pass the folder `lineage watch` writes (--out, LINEAGE_OUT_DIR).',
    )
  }
  const endpoint = options.to.kind === 'http' ? parseEndpoint(options.to.url, '--to') : undefined
  const result: ExportResult = {
    namespace: options.namespace,
    destination: endpoint?.display ?? (options.to.kind === 'file' ? resolve(options.to.file) : 'stdout'),
    events: 0,
    delivered: 0,
    undelivered: 0,
    firstError: null,
    failedFiles: 0,
    withoutSql: 0,
    invalid: [],
    seconds: 0,
  }
  const lines: string[] = []
  let unreachable = false
  const records = readdirSync(outDir, {recursive: true, encoding: 'utf8'})
    .filter((rel) => rel.endsWith(OUTPUT_SUFFIX))
    .sort()
  for (const rel of records) {
    const read = readEventSource(join(outDir, rel), options.rawDir)
    if (read.kind === 'invalid') {
      result.invalid.push(rel)
      continue
    }
    if (read.kind === 'failed') {
      result.failedFiles++
      continue
    }
    result.events++
    if (read.source.sql === undefined) result.withoutSql++
    const line = JSON.stringify(buildRunEvent(read.source, options.namespace))
    if (options.to.kind === 'lines') {
      options.to.write(`${line}\n`)
      result.delivered++
    } else if (options.to.kind === 'file') {
      lines.push(`${line}\n`)
    } else if (unreachable || !endpoint) {
      result.undelivered++
    } else {
      const sent = await send(endpoint, line, options.retry ?? DEFAULT_RETRY)
      if (sent.ok) {
        result.delivered++
        continue
      }
      result.undelivered++
      result.firstError ??= `${read.source.path}: ${sent.reason}`
      if (!sent.refused) unreachable = true
    }
  }
  if (options.to.kind === 'file') {
    writeFileAtomic(options.to.file, lines.join(''))
    result.delivered = lines.length
  }
  result.seconds = (performance.now() - started) / 1000
  return result
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
