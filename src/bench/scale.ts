/**
 * `lineage bench --scale`: does the cost per file stay flat as the repository grows? For each size, a folder
 * of that many tiny SQL files (one `INSERT ... SELECT` each, 1,000 per sub-folder) is ingested by `watch
 * --once` with the built-in defaults (the embedded default, no graph), in a child process of its own
 * (scale-child.ts), so the wall time, the CPU and the peak RSS are that size's alone. Then the batcher alone
 * takes a backlog of `events` file events and drains it in batches of 50: the first scan of a monorepo queues
 * every file at once, and a batch must cost the same at any backlog.
 *
 * The files are generated before the clock starts (not timed). Each size is a pass or a failure: the run must
 * exit cleanly with every file ingested and no failure. Flatness is reported, not judged (the first size
 * includes the start-up: worker threads, grammars, the ledger), as ratios of the largest size to the smallest.
 *
 * Throws LineageError E_USAGE for bad sizes and E_INTERRUPTED (130) when the signal aborts; a child that fails
 * is that size's failure, reported.
 */
import {fork} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'

import {isolatedFolders} from './bench.js'
import {Batcher, LineageError, type Logger, type SettingValue} from '../core/index.js'

export const DEFAULT_SCALE_FILES = [1_000, 10_000, 50_000, 200_000] as const
export const DEFAULT_SCALE_EVENTS = 1_000_000
const FILES_PER_FOLDER = 1_000
const BATCH = 50

export interface ScaleOptions {
  /** Folder sizes, ascending after sorting. */
  files: readonly number[]
  /** The batcher's backlog; 0 skips that part. */
  events: number
  logger: Logger
  signal?: AbortSignal | undefined
  keep?: boolean
  tmpRoot?: string
}

export interface ScaleChildRequest {
  flags: Record<string, SettingValue>
}

export type ScaleChildResult =
  | {
      ok: true
      seconds: number
      cpuSeconds: number
      peakRssBytes: number
      files: number
      failed: number
      batchErrors: number
    }
  | {ok: false; error: string}

export interface ScaleSize {
  files: number
  ok: boolean
  /** Why the size failed (null when ok). */
  problem: string | null
  seconds: number | null
  msPerFile: number | null
  cpuMsPerFile: number | null
  peakRssMb: number | null
}

export interface ScaleBacklog {
  events: number
  batches: number
  /** Pushing every event, then taking every batch. */
  pushSeconds: number
  drainSeconds: number
  /** Microseconds per batch, over the first and the last tenth of the drain. */
  firstBatchesUs: number
  lastBatchesUs: number
}

export interface ScaleReport {
  sizes: ScaleSize[]
  backlog: ScaleBacklog | null
  /** Largest size over smallest, when both passed: wall ms per file, and peak RSS. */
  flatness: {msPerFileRatio: number; peakRssRatio: number} | null
  ok: boolean
  problems: string[]
  machine: {loadAverageAtStart: number[]; loadAverageAtEnd: number[]}
  keptAt: string | null
}

/** Write `count` tiny SQL files under `raw`, 1,000 per sub-folder, each reading a table of its own. */
export function writeScaleFolder(raw: string, count: number): void {
  for (let d = 0; d * FILES_PER_FOLDER < count; d++) {
    const folder = join(raw, `d${d}`)
    mkdirSync(folder, {recursive: true})
    const end = Math.min(count, (d + 1) * FILES_PER_FOLDER)
    for (let i = d * FILES_PER_FOLDER; i < end; i++) {
      writeFileSync(join(folder, `f${i}.sql`), `INSERT INTO w.t${i % 97} (a) SELECT a FROM r.s${i}_src;\n`)
    }
  }
}

export async function runScale(options: ScaleOptions): Promise<ScaleReport> {
  const sizes = [...new Set(options.files)].sort((a, b) => a - b)
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new LineageError('E_USAGE', 'the scale sizes must be whole numbers of files, 1 or more')
  }
  if (!Number.isInteger(options.events) || options.events < 0) {
    throw new LineageError('E_USAGE', 'the scale backlog must be a whole number of events, 0 or more')
  }
  const loadAverageAtStart = rounded(loadavg())
  const tmp = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'lineage-scale-'))
  const results: ScaleSize[] = []
  let keep = options.keep ?? false
  try {
    for (const [i, files] of sizes.entries()) {
      checkAborted(options.signal)
      const dir = join(tmp, `${files}`)
      options.logger.info(`[${i + 1}/${sizes.length}] writing ${files.toLocaleString('en-US')} files (not timed)`)
      const flags: Record<string, SettingValue> = {...isolatedFolders(dir), METRICS_PORT: 0, METRICS_HOST: '127.0.0.1'}
      writeScaleFolder(flags.LINEAGE_RAW_DIR as string, files)
      options.logger.info(`  watch --once over ${files.toLocaleString('en-US')} files, in a process of its own`)
      const size = sizeResult(files, await runChild({flags}, options.signal))
      if (!size.ok) keep = true
      else rmSync(dir, {recursive: true, force: true})
      options.logger.info(
        size.ok
          ? `  ${size.seconds?.toFixed(1)} s, ${size.msPerFile?.toFixed(2)} ms per file, ${size.cpuMsPerFile?.toFixed(2)} CPU ms per file, peak RSS ${size.peakRssMb} MB`
          : `  FAILED: ${size.problem}`,
      )
      results.push(size)
    }
    checkAborted(options.signal)
    const backlog = options.events > 0 ? await drainBacklog(options.events) : null
    if (backlog) {
      options.logger.info(
        `batcher: ${backlog.events.toLocaleString('en-US')} events pushed in ${backlog.pushSeconds.toFixed(2)} s, ` +
          `drained in ${backlog.batches.toLocaleString('en-US')} batches in ${backlog.drainSeconds.toFixed(2)} s`,
      )
    }
    const problems = results.filter((s) => !s.ok).map((s) => `${s.files} files: ${s.problem ?? 'failed'}`)
    const first = results[0]
    const last = results[results.length - 1]
    const flatness =
      first?.ok && last?.ok && results.length > 1
        ? {
            msPerFileRatio: round2((last.msPerFile ?? 0) / (first.msPerFile ?? 1)),
            peakRssRatio: round2((last.peakRssMb ?? 0) / (first.peakRssMb ?? 1)),
          }
        : null
    return {
      sizes: results,
      backlog,
      flatness,
      ok: problems.length === 0,
      problems,
      machine: {loadAverageAtStart, loadAverageAtEnd: rounded(loadavg())},
      keptAt: keep ? tmp : null,
    }
  } finally {
    if (keep) options.logger.info(`work folder kept: ${tmp}`)
    else rmSync(tmp, {recursive: true, force: true})
  }
}

function sizeResult(files: number, child: ScaleChildResult): ScaleSize {
  const none = {seconds: null, msPerFile: null, cpuMsPerFile: null, peakRssMb: null}
  if (!child.ok) return {files, ok: false, problem: child.error, ...none}
  const problem =
    child.files !== files
      ? `ingested ${child.files} of ${files} files`
      : child.failed > 0 || child.batchErrors > 0
        ? `${child.failed} file(s) failed, ${child.batchErrors} batch error(s)`
        : null
  return {
    files,
    ok: problem === null,
    problem,
    seconds: round2(child.seconds),
    msPerFile: round2((child.seconds * 1000) / files),
    cpuMsPerFile: round2((child.cpuSeconds * 1000) / files),
    peakRssMb: Math.round(child.peakRssBytes / 1024 ** 2),
  }
}

/** Run scale-child (built JavaScript, or the TypeScript source under tsx) and wait for its one answer. */
function runChild(request: ScaleChildRequest, signal: AbortSignal | undefined): Promise<ScaleChildResult> {
  const fromSource = import.meta.url.endsWith('.ts')
  const url = new URL(`./scale-child.${fromSource ? 'ts' : 'js'}`, import.meta.url)
  const child = fork(url, [], {
    execArgv: fromSource ? ['--import', 'tsx'] : [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    ...(signal ? {signal} : {}),
  })
  return new Promise((resolve, reject) => {
    let answer: ScaleChildResult | undefined
    child.once('message', (m: ScaleChildResult) => (answer = m))
    child.once('error', (error) => {
      if (signal?.aborted) reject(new LineageError('E_INTERRUPTED', 'bench interrupted'))
      else resolve({ok: false, error: error.message})
    })
    child.once('exit', (code, sig) => {
      if (signal?.aborted) reject(new LineageError('E_INTERRUPTED', 'bench interrupted'))
      else resolve(answer ?? {ok: false, error: `the run exited (${sig ?? `code ${code}`}) without a result`})
    })
    child.send(request)
  })
}

/** Push `events` distinct paths, then take batches of 50 until none is left, timing the first and last tenth. */
export async function drainBacklog(events: number): Promise<ScaleBacklog> {
  const batcher = new Batcher({enabled: true, batchSize: BATCH, debounceMs: 0})
  const t0 = performance.now()
  for (let i = 0; i < events; i++) batcher.push('upsert', `d${Math.floor(i / FILES_PER_FOLDER)}/f${i}.sql`)
  const t1 = performance.now()
  const total = Math.ceil(events / BATCH)
  const tenth = Math.max(1, Math.floor(total / 10))
  let batches = 0
  let firstEnd = t1
  let lastStart = t1
  while (batcher.size > 0) {
    if (batches === total - tenth) lastStart = performance.now()
    const batch = await batcher.next()
    if (batch.length === 0) throw new LineageError('E_INTERNAL', 'the batcher held events but gave no batch')
    batches++
    if (batches === tenth) firstEnd = performance.now()
  }
  const t2 = performance.now()
  batcher.close()
  return {
    events,
    batches,
    pushSeconds: round2((t1 - t0) / 1000),
    drainSeconds: round2((t2 - t1) / 1000),
    firstBatchesUs: round2(((firstEnd - t1) * 1000) / tenth),
    lastBatchesUs: round2(((t2 - lastStart) * 1000) / tenth),
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LineageError('E_INTERRUPTED', 'bench interrupted')
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}

function rounded(values: number[]): number[] {
  return values.map(round2)
}
