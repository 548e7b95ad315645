/**
 * The watched folder's identity, held under the watcher (watcher.ts). A folder removed, unmounted or swapped
 * (a deploy that replaces a symlink, an NFS hiccup) looks to the watcher like every file deleted: applied,
 * that would retract the whole folder from the graph. So the folder's device and inode are kept from the
 * start; while they are not what they were, batches are held back (retracting nothing), `problem` says why
 * (/healthz 503, verify CRITICAL), and the folder is checked every `pollMs`. Once a directory is there again,
 * the watcher is started afresh on it and `onBack` runs the reconcile, which re-scans it (and holds back a mass
 * retraction, reconciler.ts). Throws only what startWatcher throws at the first start.
 */
import {statSync} from 'node:fs'

import {errorMessage} from '../errors.js'
import type {Logger} from '../logger.js'
import {startWatcher, type WatchOptions} from './watcher.js'

export class FolderGuard {
  private identity: string
  private gone: string | undefined
  private watcher: {close: () => Promise<void>} | undefined
  private timer: NodeJS.Timeout | undefined
  private reattaching = false
  private closed = false

  private constructor(
    private readonly options: WatchOptions,
    private readonly onBack: () => void,
    private readonly logger: Logger,
  ) {
    this.identity = identityOf(options.rawDir) ?? ''
  }

  /** Watch the folder and guard it; `onBack` runs after the folder came back and is watched again. */
  static async start(options: WatchOptions, onBack: () => void, pollMs = 1000): Promise<FolderGuard> {
    const guard = new FolderGuard(options, onBack, options.logger)
    guard.watcher = await startWatcher(options)
    guard.timer = setInterval(() => {
      if (guard.intact() || guard.reattaching) return
      void guard.reattach()
    }, pollMs).unref()
    return guard
  }

  /** Why the folder is not being watched now, or undefined. */
  get problem(): string | undefined {
    return this.gone
  }

  /** Is the watched folder still the one the watcher watches? When not, says so once (and holds). */
  intact(): boolean {
    if (this.gone !== undefined) return false
    const now = identityOf(this.options.rawDir)
    if (now === this.identity) return true
    this.gone =
      now === undefined
        ? `the watched folder ${this.options.rawDir} is gone`
        : `the watched folder ${this.options.rawDir} was replaced or unmounted`
    this.logger.error(`${this.gone}: nothing is retracted; watching again once it is back`)
    return false
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.watcher?.close()
  }

  /** Re-read after an await: close() may have run meanwhile. */
  private open(): boolean {
    return !this.closed
  }

  /** A directory is at the path again: watch it afresh, then let the reconcile compare it with the ledger. */
  private async reattach(): Promise<void> {
    const now = identityOf(this.options.rawDir)
    if (now === undefined || this.closed) return
    this.reattaching = true
    try {
      await this.watcher?.close()
      this.watcher = await startWatcher(this.options)
      if (!this.open()) {
        await this.watcher.close()
        return
      }
      this.identity = now
      this.gone = undefined
      this.logger.info(`the watched folder ${this.options.rawDir} is back: watching it again`)
      this.onBack()
    } catch (error) {
      this.logger.error(`cannot watch ${this.options.rawDir} again: ${errorMessage(error)}`)
    } finally {
      this.reattaching = false
    }
  }
}

/** Device and inode of the directory at `dir` (a symlink followed), or undefined when there is none. */
function identityOf(dir: string): string | undefined {
  try {
    const st = statSync(dir)
    return st.isDirectory() ? `${st.dev}:${st.ino}` : undefined
  } catch {
    return undefined
  }
}
