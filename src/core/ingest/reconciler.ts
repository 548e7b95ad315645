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
 */
import {realpathSync, rmSync, statSync} from 'node:fs'

import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import {listFiles} from '../util/fs.js'
import type {FileOp} from './batcher.js'
import type {LedgerRow} from './ledger.js'
import {isWatchedPath, resolvesInside} from './watcher.js'

export interface FileStat {
  size: number
  mtimeMs: number
}

export interface ReconcileInput {
  rawDir: string
  outDir: string
  extensions: readonly string[]
  /** The graph, when on: files ingested while it was off must be written to it. */
  neo4j: unknown
  /** Ingest every file again, whatever the ledger says. */
  reingest: boolean
  ledger: ReadonlyMap<string, LedgerRow>
  logger: Logger
  /** More retractions than this share of the ledger's files are held back, not queued; undefined: no limit. */
  maxRetractShare?: number | undefined
  /** Told why retractions were held back. */
  onHeld?: (reason: string) => void
}

/** Compare the folder, the ledger and the outputs; `queue` what to ingest, then what to retract. Returns how many. */
export function reconcile(input: ReconcileInput, queue: (op: FileOp, relPath: string) => void): number {
  // Two directory walks and one stat per watched file: whether a file's output exists is read from the output
  // folder's listing (walked anyway for orphans), not from a second stat per file.
  const outputs = scanOutputs(input.outDir, input.logger)
  const onDisk = scanFolder(input.rawDir, input.extensions, input.logger)
  const events: {op: FileOp; relPath: string}[] = []
  for (const [rel, st] of onDisk) {
    const row = input.ledger.get(rel)
    const stale =
      input.reingest ||
      row?.size !== st.size ||
      row.mtimeMs !== st.mtimeMs ||
      (row.incomplete ?? 0) > 0 ||
      (row.graph !== 'written' && input.neo4j !== undefined) ||
      !outputs.has(rel)
    if (stale) events.push({op: 'upsert', relPath: rel})
  }
  for (const rel of input.ledger.keys()) {
    if (!onDisk.has(rel)) events.push({op: 'remove', relPath: rel})
  }
  // Written (output, maybe graph) by a run killed before its ledger rows landed, and deleted since.
  for (const rel of outputs) {
    if (!onDisk.has(rel) && !input.ledger.has(rel)) events.push({op: 'remove', relPath: rel})
  }
  const held = holdMassRetraction(input, events)
  for (const e of events) if (!held || e.op !== 'remove') queue(e.op, e.relPath)
  input.logger.info(`reconcile: ${onDisk.size} file(s) in the folder, ${events.length} to ingest or retract`)
  return held ? events.filter((e) => e.op !== 'remove').length : events.length
}

/**
 * An emptied or half-mounted folder looks like mass deletion: more removals than the allowed share of the
 * ledger are not applied, and said so (an operator confirms with `lineage watch --allow-mass-retract`).
 */
function holdMassRetraction(input: ReconcileInput, events: {op: FileOp}[]): boolean {
  const share = input.maxRetractShare
  const removals = events.filter((e) => e.op === 'remove').length
  const known = input.ledger.size
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
  const listed = listFiles(rawDir, {
    skipDotNames: true,
    onUnreadable: (dir, error) => {
      logger.warn(`cannot list ${dir}: ${errorMessage(error)}`)
    },
  })
  for (const {abs, rel, entry} of listed) {
    if (!isWatchedPath(rel, extensions)) continue
    if (entry.isSymbolicLink() && !resolvesInside(realRoot, abs)) {
      logger.warn(`ignoring symlink that leads outside the watched folder: ${rel}`)
      continue
    }
    try {
      const st = statSync(abs)
      if (st.isFile()) found.set(rel, {size: st.size, mtimeMs: st.mtimeMs})
    } catch {
      // vanished while scanning: the watcher reports it
    }
  }
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
  // An output folder that cannot be listed (none yet) has no outputs.
  for (const {abs, rel, entry} of listFiles(outDir)) {
    if (!entry.isFile()) continue
    if (rel.endsWith(OUTPUT_SUFFIX)) {
      found.add(rel.slice(0, -OUTPUT_SUFFIX.length))
      continue
    }
    if (OUTPUT_TEMP.test(entry.name) && olderThanThisProcess(abs)) {
      logger.debug(`removing ${rel}, left by a writer that died`)
      rmSync(abs, {force: true})
    }
  }
  return found
}

function olderThanThisProcess(file: string): boolean {
  try {
    return statSync(file).mtimeMs < performance.timeOrigin
  } catch {
    return false // renamed or removed meanwhile
  }
}
