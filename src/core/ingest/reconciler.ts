/**
 * The start-up reconcile: events alone are not trusted, so at every start the watched folder, the ingest
 * ledger and the output folder are compared, and what changed, appeared or vanished while the service was
 * down is queued (upserts for new or changed files, retractions for files gone).
 *
 * A file is stale when its size or mtime differs from its ledger row, when its graph write is not known to
 * have landed (ingested with the graph off and the graph now on, or `failed`: kept only in the failed-ingestion
 * file, whose line may have torn), when its lineage is incomplete (its parse ran out of time: parsed again with
 * a longer budget, incomplete-retry.ts) or when its output file is missing. Retracted: ledger rows without a file, and
 * outputs without a file or a ledger row (written by a run killed before its ledger rows landed). The scans
 * skip dotfiles, other extensions, anything that is not a regular file, and symlinks that lead outside the
 * folder, exactly as the watcher does. Throws only when the watched folder itself cannot be read.
 *
 * What it costs at any size (200,000 files: docs/performance.md, "The start-up reconcile"): one walk of the
 * folder with one stat per file; the ledger streamed in path order and merged with the sorted listing, never a
 * Map of every row; the output folder read as a stream, one readdir per folder and no stat per output, which
 * leaves one mark per file that has its output. That walk runs at every reconcile on purpose: at a restart
 * nearly every file is otherwise fresh and needs to know its output is there, and a readdir answers that a
 * folder at a time where a stat of each output would be a second stat per file (0.7 s at 200,000 files
 * against 0.4 s for the walk); orphan outputs and dead temp files are found only by listing in any case.
 * Skipping the walk after a clean stop was rejected: a marker of it is made false by an output deleted while
 * the service was down, or by a ledger write that failed after its output landed (state disk full).
 */
import {realpathSync, rmSync, statSync} from 'node:fs'

import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import {eachFile} from '../util/fs.js'
import type {FileOp} from './batcher.js'
import type {LedgerRow} from './ledger.js'
import {isWatchedPath, resolvesInside} from './watcher.js'

export interface FileStat {
  size: number
  mtimeMs: number
}

/**
 * The ledger as the reconcile reads it: its rows streamed in path order, and how many there are (the ingest
 * ledger, ledger.ts; a Map is taken too, and sorted).
 */
export interface LedgerScan {
  /** Every row, ordered by path in code-point order (SQLite's BINARY collation of UTF-8 text); see byCodePoint. */
  rows(): Iterable<LedgerRow>
  count(): number
}

export interface ReconcileInput {
  rawDir: string
  outDir: string
  extensions: readonly string[]
  /** The graph, when on: files ingested while it was off must be written to it. */
  neo4j: unknown
  /** Ingest every file again, whatever the ledger says. */
  reingest: boolean
  ledger: LedgerScan | ReadonlyMap<string, LedgerRow>
  logger: Logger
  /** More retractions than this share of the ledger's files are held back, not queued; undefined: no limit. */
  maxRetractShare?: number | undefined
  /** Told why retractions were held back. */
  onHeld?: (reason: string) => void
}

/** Compare the folder, the ledger and the outputs; `queue` what to ingest, then what to retract. Returns how many. */
export function reconcile(input: ReconcileInput, queue: (op: FileOp, relPath: string) => void): number {
  const ledger = isScan(input.ledger) ? input.ledger : mapScan(input.ledger)
  const onDisk = scanFolder(input.rawDir, input.extensions, input.logger)
  // The output folder in one streaming walk, kept as one mark per watched file (its FileStat), not as a Set
  // of 200,000 paths; outputs without a file are few, and are what the merge below decides on.
  const withOutput = new Set<FileStat>()
  const fileless: string[] = []
  walkOutputs(input.outDir, input.logger, (rel) => {
    const st = onDisk.get(rel)
    if (st) withOutput.add(st)
    else fileless.push(rel)
  })
  const stale = new Set<string>()
  const check = (rel: string, row: LedgerRow | undefined): void => {
    const st = onDisk.get(rel)
    if (!st) return
    if (
      input.reingest ||
      row?.size !== st.size ||
      row.mtimeMs !== st.mtimeMs ||
      (row.incomplete ?? 0) > 0 ||
      (row.graph !== 'written' && input.neo4j !== undefined) ||
      !withOutput.has(st)
    )
      stale.add(rel)
  }
  // A merge join of the sorted listing with the ledger streamed in the same order: each row is looked at
  // once and dropped. At 200,000 files (tmp, warm cache) the merge took 0.62 s and 36 MB, one prepared
  // `get` per file 1.6 to 1.75 s and 38 MB, the whole ledger in a Map (before) 1.0 s and 147 MB.
  const paths = [...onDisk.keys()].sort(byCodePoint)
  const gone: string[] = []
  let i = 0
  let file = paths[0]
  for (const row of ledger.rows()) {
    for (; file !== undefined && byCodePoint(file, row.path) < 0; file = paths[++i]) check(file, undefined)
    if (file !== row.path) {
      gone.push(row.path)
      continue
    }
    check(file, row)
    file = paths[++i]
  }
  for (; file !== undefined; file = paths[++i]) check(file, undefined)

  const events: {op: FileOp; relPath: string}[] = []
  // Upserts in the order the folder was listed, as before the merge.
  for (const rel of onDisk.keys()) if (stale.has(rel)) events.push({op: 'upsert', relPath: rel})
  for (const rel of gone) events.push({op: 'remove', relPath: rel})
  // Written (output, maybe graph) by a run killed before its ledger rows landed, and deleted since. An output
  // without a file whose row the ledger has is retracted above already: that row is among `gone`.
  if (fileless.length > 0) {
    const known = new Set(gone)
    for (const rel of fileless) if (!known.has(rel)) events.push({op: 'remove', relPath: rel})
  }
  const held = holdMassRetraction(input, ledger.count(), events)
  for (const e of events) if (!held || e.op !== 'remove') queue(e.op, e.relPath)
  input.logger.info(`reconcile: ${onDisk.size} file(s) in the folder, ${events.length} to ingest or retract`)
  return held ? events.filter((e) => e.op !== 'remove').length : events.length
}

/**
 * SQLite's order of the ledger's paths: BINARY compares UTF-8 bytes, which is code-point order. JavaScript's
 * `<` compares UTF-16 units, which differs where a surrogate (a character above U+FFFF) meets U+E000-U+FFFF;
 * a merge join in the wrong order would retract files that are there.
 */
export function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    if (x < 0xd800 || y < 0xd800) return x - y
    // Both at or above U+D800: surrogates (D800-DFFF) go after E000-FFFF.
    return (x >= 0xe000 ? x - 0x800 : x + 0x2000) - (y >= 0xe000 ? y - 0x800 : y + 0x2000)
  }
  return a.length - b.length
}

function isScan(ledger: LedgerScan | ReadonlyMap<string, LedgerRow>): ledger is LedgerScan {
  return typeof (ledger as Partial<LedgerScan>).rows === 'function'
}

/** A ledger given as a Map (tests, callers that hold one), read as the reconcile reads the SQLite ledger. */
function mapScan(map: ReadonlyMap<string, LedgerRow>): LedgerScan {
  return {
    rows: () =>
      [...map].sort(([a], [b]) => byCodePoint(a, b)).map(([path, row]) => (row.path === path ? row : {...row, path})),
    count: () => map.size,
  }
}

/**
 * An emptied or half-mounted folder looks like mass deletion: more removals than the allowed share of the
 * ledger are not applied, and said so (an operator confirms with `lineage watch --allow-mass-retract`).
 */
function holdMassRetraction(input: ReconcileInput, known: number, events: {op: FileOp}[]): boolean {
  const share = input.maxRetractShare
  const removals = events.filter((e) => e.op === 'remove').length
  if (share === undefined || removals < 2 || removals <= share * known) return false
  const reason =
    `${removals} of ${known} file(s) would be retracted (over ${Math.round(share * 100)}%); held back: ` +
    `check ${input.rawDir}, then run "lineage watch --allow-mass-retract" to apply`
  input.logger.error(reason)
  input.onHeld?.(reason)
  return true
}

/** Every watched file of the folder with its size and mtime, for the reconcile. */
export function scanFolder(rawDir: string, extensions: readonly string[], logger: Logger): Map<string, FileStat> {
  const found = new Map<string, FileStat>()
  const realRoot = realpathSync(rawDir)
  // Each file stat'ed as it is listed: no array of every entry first (at 200,000 files, 50 MB of peak RSS).
  const options = {
    skipDotNames: true,
    onUnreadable: (dir: string, error: unknown) => {
      logger.warn(`cannot list ${dir}: ${errorMessage(error)}`)
    },
  }
  eachFile(rawDir, options, ({abs, rel, entry}) => {
    if (!isWatchedPath(rel, extensions)) return
    if (entry.isSymbolicLink() && !resolvesInside(realRoot, abs)) {
      logger.warn(`ignoring symlink that leads outside the watched folder: ${rel}`)
      return
    }
    try {
      const st = statSync(abs)
      if (st.isFile()) found.set(rel, {size: st.size, mtimeMs: st.mtimeMs})
    } catch {
      // vanished while scanning: the watcher reports it
    }
  })
  return found
}

const OUTPUT_SUFFIX = '.lineage.json'
/**
 * An output being written by util/fs writeFileAtomic: `<out>.lineage.json.<number>` (write-file-atomic), or
 * `.<pid>.<hex>.tmp` from releases before it. The name no longer tells the writer's pid, so its age does: a
 * temp file lives for the milliseconds of one write, and one older than this process was left by a writer
 * that died (a running writer's temp file from before our start is long renamed by the time we look).
 */
const OUTPUT_TEMP = /\.lineage\.json\.\d+(\.[0-9a-f]+\.tmp)?$/

/**
 * The files whose lineage is in the output folder (`<rel>.lineage.json` -> rel), for the reconcile: one
 * whose file is gone and that the ledger does not know was written by a run killed before its ledger row
 * landed, and must be retracted. Temp files left by a writer that died mid-write are removed.
 */
export function scanOutputs(outDir: string, logger: Logger): Set<string> {
  const found = new Set<string>()
  walkOutputs(outDir, logger, (rel) => found.add(rel))
  return found
}

/**
 * scanOutputs without the Set: each output's rel is handed to `visit` as it is listed. One readdir per folder
 * and no stat but of a temp file's: what the type of an entry is, readdir says.
 */
function walkOutputs(outDir: string, logger: Logger, visit: (rel: string) => void): void {
  // An output folder that cannot be listed (none yet) has no outputs.
  eachFile(outDir, {}, ({abs, rel, entry}) => {
    if (!entry.isFile()) return
    if (rel.endsWith(OUTPUT_SUFFIX)) visit(rel.slice(0, -OUTPUT_SUFFIX.length))
    else if (OUTPUT_TEMP.test(entry.name) && olderThanThisProcess(abs)) {
      logger.debug(`removing ${rel}, left by a writer that died`)
      rmSync(abs, {force: true})
    }
  })
}

function olderThanThisProcess(file: string): boolean {
  try {
    return statSync(file).mtimeMs < performance.timeOrigin
  } catch {
    return false // renamed or removed meanwhile
  }
}
