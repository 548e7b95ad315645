/**
 * The work done for one file, identical on the main thread (FEATURE_PARALLEL off) and inside a pool worker:
 * stat, size guard, read, sha256, parse cache lookup, extraction on a miss, cache store, and the atomic
 * write of `OUT/<relative path>.lineage.json`. Never throws: every outcome is a FileTaskResult, so one
 * bad file can never stop the others. An output that cannot be written (ENOSPC, EIO, ...) is reported on the
 * result (`outputError`), not thrown: the file's lineage still goes to the graph, and the ingestor writes the
 * output again once the disk has room.
 */
import {readdirSync, readFileSync, rmSync, statfsSync, statSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'

import {errorMessage} from '../errors.js'
import {sha256, writeFileAtomic} from '../util/fs.js'
import type {FileLineage} from '../types.js'
import type {ParseCache} from '../cache/parse-cache.js'
import {extractLineageFromBuffer, PARSER_VERSION, type StatementSpan} from '../sql/index.js'

export interface FileTask {
  absPath: string
  relPath: string
  dialect: string
  /** The session defaults that qualify bare table names; they change the lineage, so key the cache too. */
  defaultDatabase?: string | undefined
  defaultSchema?: string | undefined
  maxBytes: number
  /** Soft per-file time budget handed to the extractor (the pool also enforces a hard limit). */
  deadlineMs: number
  /** The pool's hard limit for this file (ms); omitted: the pool's own (LINEAGE_PARSE_TIMEOUT_SECONDS). */
  timeoutMs?: number | undefined
  /** Content hash the ledger holds for this path: if the file still has it, nothing needs doing. */
  knownHash?: string | undefined
  /** Where to write the lineage JSON; omitted: no output file. */
  outFile?: string | undefined
  /** Statements the pool stopped at the statement budget on an earlier attempt: read by the token scan. */
  overBudget?: {spans: StatementSpan[]; budgetMs: number} | undefined
}

export interface ParsedResult {
  kind: 'parsed'
  relPath: string
  contentHash: string
  size: number
  mtimeMs: number
  lineage: FileLineage
  cacheHit: boolean
  parseMs: number
  /** Why `OUT/<path>.lineage.json` could not be written (none is left, not even a temp file). */
  outputError?: OutputError
}

export interface OutputError {
  code: string
  message: string
}

/** The content is what the ledger already holds: no parse, no write. */
export interface UnchangedResult {
  kind: 'unchanged'
  relPath: string
  contentHash: string
  size: number
  mtimeMs: number
}

/** The file disappeared before it could be read: treated as a deletion. */
export interface VanishedResult {
  kind: 'vanished'
  relPath: string
}

/** The file could not be read at all (permissions, I/O); parse failures are ParsedResults with status failed. */
export interface UnreadableResult {
  kind: 'unreadable'
  relPath: string
  code: string
  message: string
}

export type FileTaskResult = ParsedResult | UnchangedResult | VanishedResult | UnreadableResult

export interface TaskContext {
  /** The parse cache of this thread, or undefined when FEATURE_PARSE_CACHE is off. */
  cache: ParseCache | undefined
  /** Told each statement the extractor starts (a pool worker's StatementBeacon). */
  onStatement?: ((span: StatementSpan | null) => void) | undefined
}

export interface OutputRecord {
  version: 1
  path: string
  contentHash: string
  size: number
  ingestedAt: string
  parserVersion: string
  lineage: FileLineage
}

export function outputFileFor(outDir: string, relPath: string): string {
  return join(outDir, `${relPath}.lineage.json`)
}

export function runFileTask(task: FileTask, ctx: TaskContext): FileTaskResult {
  let size: number
  let mtimeMs: number
  let content: Buffer
  try {
    const st = statSync(task.absPath)
    // A FIFO or device would block the read forever (and a worker stuck in a syscall cannot be terminated).
    if (!st.isFile()) {
      return {kind: 'unreadable', relPath: task.relPath, code: 'E_FILE_READ', message: 'not a regular file'}
    }
    size = st.size
    mtimeMs = st.mtimeMs
    // Too large: do not even read it. The extractor turns the cap into a failed lineage with its reason.
    content = size > task.maxBytes ? Buffer.alloc(0) : readFileSync(task.absPath)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return {kind: 'vanished', relPath: task.relPath}
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : errorMessage(error)
    return {kind: 'unreadable', relPath: task.relPath, code: 'E_FILE_READ', message: `cannot read file: ${reason}`}
  }
  if (size > task.maxBytes) {
    // Not read, so not hashed: the size and mtime stand in, so a changed file is still noticed.
    const lineage = failedLineage(task, 'E_FILE_TOO_LARGE', `file is ${size} bytes, over the limit of ${task.maxBytes}`)
    const contentHash = `unread:${size}:${mtimeMs}`
    const outputError = task.outFile ? writeOutputRecord(task.outFile, {contentHash, size, lineage}) : undefined
    const result: ParsedResult = {
      kind: 'parsed',
      relPath: task.relPath,
      contentHash,
      size,
      mtimeMs,
      lineage,
      cacheHit: false,
      parseMs: 0,
    }
    return outputError ? {...result, outputError} : result
  }
  const contentHash = sha256(content)
  if (task.knownHash !== undefined && task.knownHash === contentHash && ctx.cache) {
    return {kind: 'unchanged', relPath: task.relPath, contentHash, size, mtimeMs}
  }
  const started = performance.now()
  const variant =
    task.defaultDatabase || task.defaultSchema ? `${task.defaultDatabase ?? ''}.${task.defaultSchema ?? ''}` : ''
  const key = {contentHash, parserVersion: PARSER_VERSION, dialect: task.dialect, variant}
  // An incomplete lineage is never stored; should one be found (an older release stored it), it is a miss.
  const found = ctx.cache?.get(key, task.relPath)
  const cached = found?.incomplete ? undefined : found
  let lineage: FileLineage
  if (cached) {
    lineage = {...cached, path: task.relPath}
  } else {
    lineage = extractLineageFromBuffer(content, {
      path: task.relPath,
      dialect: task.dialect,
      ...(task.defaultDatabase ? {defaultDatabase: task.defaultDatabase} : {}),
      ...(task.defaultSchema ? {defaultSchema: task.defaultSchema} : {}),
      maxBytes: task.maxBytes,
      deadlineMs: task.deadlineMs,
      ...(ctx.onStatement ? {onStatement: ctx.onStatement} : {}),
      ...(task.overBudget ? {overBudget: task.overBudget} : {}),
    })
    // A soft-deadline timeout depends on the machine's load, not on the content: never cache it.
    if (!lineage.incomplete) ctx.cache?.put(key, lineage)
  }
  const parseMs = performance.now() - started
  const outputError = task.outFile ? writeOutputRecord(task.outFile, {contentHash, size, lineage}) : undefined
  return {
    kind: 'parsed',
    relPath: task.relPath,
    contentHash,
    size,
    mtimeMs,
    lineage,
    cacheHit: cached !== undefined,
    parseMs,
    ...(outputError ? {outputError} : {}),
  }
}

/** A lineage that records why the file gave none (too large, timed out, worker crashed). */
export function failedLineage(task: Pick<FileTask, 'relPath' | 'dialect'>, code: string, message: string): FileLineage {
  return {
    path: task.relPath,
    dialect: task.dialect,
    status: 'failed',
    sources: [],
    targets: [],
    statements: [],
    errors: [{code, message, line: 1, column: 1, snippet: ''}],
    parserVersion: PARSER_VERSION,
  }
}

/**
 * Write `OUT/<path>.lineage.json`: temp file, fsync, rename, then the size on disk checked against what was
 * written, so a disk that fills mid-write never leaves a truncated output that looks done. Returns why it
 * failed (nothing of it left behind: write-file-atomic removes its temp file, a short file is removed), or
 * undefined when the output is in place.
 */
export function writeOutputRecord(
  outFile: string,
  r: {contentHash: string; size: number; lineage: FileLineage},
): OutputError | undefined {
  const record: OutputRecord = {
    version: 1,
    path: r.lineage.path,
    contentHash: r.contentHash,
    size: r.size,
    ingestedAt: new Date().toISOString(),
    parserVersion: r.lineage.parserVersion,
    lineage: r.lineage,
  }
  const data = Buffer.from(`${JSON.stringify(record, null, 2)}\n`)
  try {
    // fsync before the rename: on a full disk the data may fail only at the flush, and must fail here.
    writeFileAtomic(outFile, data)
    const onDisk = statSync(outFile).size
    if (onDisk === data.length) return undefined
    // write-file-atomic writes with one call and does not check its count, so a disk with less room than the
    // data (tmpfs, for one) gives a short file instead of ENOSPC: said as the full disk it is.
    const full = roomLeft(dirname(outFile)) < data.length - onDisk
    rmSync(outFile, {force: true})
    const message = `${outFile} is ${onDisk} bytes on disk, ${data.length} were written`
    return full
      ? {code: 'ENOSPC', message: `${message}: no space left on the device`}
      : {code: 'E_OUTPUT_WRITE', message}
  } catch (error) {
    // The previous output is stale now: gone, it cannot pass for this content (the reconcile sees it missing).
    rmSync(outFile, {force: true})
    const code = (error as NodeJS.ErrnoException).code ?? 'E_OUTPUT_WRITE'
    return {code, message: `cannot write ${outFile}: ${errorMessage(error)}`}
  }
}

/** Bytes an unprivileged writer may still put on the file system holding `dir` (Infinity when unknown). */
function roomLeft(dir: string): number {
  try {
    const fs = statfsSync(dir)
    return fs.bavail * fs.bsize
  } catch {
    return Infinity
  }
}

export function removeOutput(outDir: string, relPath: string): void {
  rmSync(outputFileFor(outDir, relPath), {force: true})
}

/**
 * Remove the temp files of `outFile` (write-file-atomic's `<file>.<number>`) that a worker ended by the pool
 * in the middle of its write left behind. Only once that worker has exited: the same path is never parsed by
 * two workers at once, so no other writer's temp file can be there.
 */
export function removeOutputTemps(outFile: string): void {
  const dir = dirname(outFile)
  const prefix = `${basename(outFile)}.`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return // no folder, no temp files
  }
  for (const name of names) {
    if (name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))) rmSync(join(dir, name), {force: true})
  }
}
