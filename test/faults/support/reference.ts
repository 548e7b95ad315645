/**
 * The check every fault scenario ends with: the graph and the output folder equal those of a clean,
 * fault-free ingestion of the same files. Full sets of nodes and relationships (graphSnapshot), and every file
 * of the output folder with its lineage JSON, minus what legitimately differs between two runs (ingestedAt).
 */
import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import {readFailures} from '../../../src/core/ingest/dead-letter.js'
import {listFiles} from '../../../src/core/util/fs.js'
import type {Neo4jContext, Snapshot} from '../../helpers/neo4j.js'
import {ingestOnce, serviceEnv} from '../../helpers/service.js'
import {tmpDir} from '../../helpers/tmp.js'

/** Fields of an output record that differ between two ingestions of the same file. */
export const VOLATILE_OUTPUT_FIELDS = ['ingestedAt']

/** Every file under `outDir` (stray temp files included): lineage JSON parsed, volatile fields removed. */
export function outputSnapshot(outDir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const {abs, rel} of listFiles(outDir)) {
    let text: Buffer
    try {
      text = readFileSync(abs)
    } catch {
      continue // gone since the listing (a temp file renamed by a running writer)
    }
    if (!rel.endsWith('.lineage.json')) {
      out[rel] = `<not a lineage file: ${text.length} bytes>`
      continue
    }
    const record = JSON.parse(text.toString('utf8')) as Record<string, unknown>
    out[rel] = Object.fromEntries(Object.entries(record).filter(([k]) => !VOLATILE_OUTPUT_FIELDS.includes(k)))
  }
  return out
}

/** Equal as multisets; on a difference, say what is missing and what is extra (a few of each). */
export function expectSameItems(actual: string[], expected: string[], what: string): void {
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>()
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1)
    return m
  }
  const a = count(actual)
  const e = count(expected)
  const missing: string[] = []
  const extra: string[] = []
  for (const [k, n] of e) for (let i = a.get(k) ?? 0; i < n; i++) missing.push(k)
  for (const [k, n] of a) for (let i = e.get(k) ?? 0; i < n; i++) extra.push(k)
  const show = (xs: string[]): string =>
    xs
      .slice(0, 20)
      .map((x) => `    ${x.length > 400 ? `${x.slice(0, 400)}...` : x}`)
      .join('\n')
  if (missing.length + extra.length > 0) {
    expect.fail(
      `${what} differ from a clean ingestion: ${missing.length} missing, ${extra.length} extra\n` +
        `  missing:\n${show(missing)}\n  extra:\n${show(extra)}`,
    )
  }
}

export function expectSameOutput(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  expectSameItems(Object.keys(actual), Object.keys(expected), 'output files')
  for (const [rel, record] of Object.entries(expected)) {
    expect(actual[rel], `output ${rel}`).to.deep.equal(record)
  }
}

export function expectSameGraph(actual: Snapshot, expected: Snapshot): void {
  expectSameItems(actual.nodes, expected.nodes, 'graph nodes')
  expectSameItems(actual.relationships, expected.relationships, 'graph relationships')
}

export interface CleanRun {
  graph: Snapshot
  output: Record<string, unknown>
}

/**
 * Ingest `rawDir` from scratch (fresh ledger, cache, output folder) into a cleaned graph, as `watch --once`
 * does, and return what that gives. `env` carries the settings that shape the result (dialect, limits).
 */
export async function cleanIngestion(
  neo: Pick<Neo4jContext, 'uri' | 'cleanGraph' | 'graphSnapshot'> | undefined,
  rawDir: string,
  env: Record<string, string | undefined> = {},
): Promise<CleanRun> {
  const tmp = tmpDir('lineage-clean-')
  try {
    await neo?.cleanGraph()
    const cleanEnv = serviceEnv(tmp.dir, {NEO4J_URI: neo?.uri, ...env, LINEAGE_RAW_DIR: rawDir})
    const summary = await ingestOnce(cleanEnv)
    expect(summary.graphFailures, 'graph failures of the clean ingestion').to.equal(0)
    expect(readFailures(cleanEnv.LINEAGE_FAILED_FILE!).entries).to.deep.equal([])
    return {
      graph: neo ? await neo.graphSnapshot() : {nodes: [], relationships: []},
      output: outputSnapshot(cleanEnv.LINEAGE_OUT_DIR!),
    }
  } finally {
    tmp.remove()
  }
}

/**
 * The end-of-scenario check: snapshot the graph and `outDir` as the faulty run left them, then compare them
 * with a clean ingestion of `rawDir` (which replaces the graph's content).
 */
export async function expectSameAsCleanIngestion(
  neo: Pick<Neo4jContext, 'uri' | 'cleanGraph' | 'graphSnapshot'> | undefined,
  run: {rawDir: string; outDir: string; env?: Record<string, string | undefined>},
): Promise<CleanRun> {
  const graph = neo ? await neo.graphSnapshot() : {nodes: [], relationships: []}
  const output = outputSnapshot(run.outDir)
  const clean = await cleanIngestion(neo, run.rawDir, run.env)
  expectSameGraph(graph, clean.graph)
  expectSameOutput(output, clean.output)
  return clean
}
