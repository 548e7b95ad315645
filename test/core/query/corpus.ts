/**
 * A small SQL corpus for the trace and impact tests, and the two ways lineage of it is stored: output records
 * as `lineage watch` writes them, and the same lineage written to Neo4j by the real GraphWriter.
 * It has a chain through intermediate tables (raw -> stg -> mart -> report), two files making the same table,
 * a table read by two others, and a cycle.
 */
import {createHash} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import {dirname} from 'node:path'

import {extractLineage, silentLogger, type FileLineage} from '../../../src/core/index.js'
import type {GraphUpsert} from '../../../src/core/graph/model.js'
import {GraphWriter, type Neo4jConnection} from '../../../src/core/graph/writer.js'
import {outputFileFor, writeOutputRecord} from '../../../src/core/ingest/file-task.js'
import {TEST_NAMESPACE} from '../../helpers/neo4j.js'

export const CORPUS: Record<string, string> = {
  'etl/stg.sql': `INSERT INTO stg.trades (id, notional, ccy)
SELECT t.id, t.amount * f.rate, t.ccy
FROM raw.trades t JOIN ref.fx f ON f.ccy = t.ccy;
`,
  'etl/backfill.sql': `-- old trades
INSERT INTO stg.trades (id, notional, ccy)
SELECT a.id, a.amount, a.ccy FROM raw.trades_archive a;
`,
  'mart/daily.sql': `-- the daily mart
INSERT INTO mart.daily (day, total)
SELECT CAST(s.ts AS DATE), SUM(s.notional)
FROM stg.trades s
GROUP BY 1;

INSERT INTO report.pnl (total)
SELECT d.total FROM mart.daily d;
`,
  'mart/weekly.sql': `INSERT INTO mart.weekly (total)
SELECT SUM(d.total) FROM mart.daily d;
`,
  'loop/cycle.sql': `INSERT INTO loop.a (x) SELECT b.x FROM loop.b b;
INSERT INTO loop.b (x) SELECT a.x FROM loop.a a;
`,
}

export function lineageOf(path: string, sql: string): FileLineage {
  return extractLineage(sql, {path, dialect: 'ansi'})
}

/** Write the corpus's output records into `outDir`, as the service does. */
export function writeOutputs(outDir: string, corpus: Record<string, string> = CORPUS): void {
  for (const [path, sql] of Object.entries(corpus)) {
    const file = outputFileFor(outDir, path)
    mkdirSync(dirname(file), {recursive: true})
    writeOutputRecord(file, {contentHash: hash(sql), size: sql.length, lineage: lineageOf(path, sql)})
  }
}

/** Write the corpus to Neo4j through the real writer, as the service does. */
export async function writeGraph(conn: Neo4jConnection, corpus: Record<string, string> = CORPUS): Promise<void> {
  const writer = await GraphWriter.connect(conn, {logger: silentLogger, namespace: TEST_NAMESPACE})
  try {
    const ops: GraphUpsert[] = Object.entries(corpus).map(([path, sql]) => ({
      op: 'upsert',
      path,
      contentHash: hash(sql),
      dialect: 'ansi',
      ingestedAt: new Date().toISOString(),
      lineage: lineageOf(path, sql),
    }))
    const result = await writer.apply(ops, {batched: true})
    if (result.failed.length > 0) throw new Error(`graph write failed: ${JSON.stringify(result.failed[0])}`)
  } finally {
    await writer.close()
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
