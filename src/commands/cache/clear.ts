import {Flags} from '@oclif/core'

import {BaseCommand, targetFlags} from '../../base-command.js'
import {
  actorFromEnv,
  auditCacheClear,
  clearCache,
  type ClearResult,
  type CorruptCopy,
  removeCorruptCopies,
  resolveSettings,
} from '../../core/index.js'
import {describeClear, formatBytes} from '../../ui/cache.js'

export default class CacheClear extends BaseCommand<typeof CacheClear> {
  static override summary = 'Empty the parse cache'
  static override description = `Removes every entry from the parse cache (LINEAGE_CACHE_FILE) and resets its hit \
and miss counters, then gives the space back to the disk. It is safe while "lineage watch" runs: the watcher \
keeps its connection and simply parses files again as they change. A damaged cache file is removed and an \
empty one created in its place; a running watcher reopens it within about a second. It never asks for \
confirmation. Files are re-parsed and the cache refills as they are ingested. Damaged copies moved aside earlier \
(<file>.corrupt-<time>) are removed too. The clear is recorded in the audit log (lineage flags history) with \
your name, the time and --reason.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --reason "wrong lineage after the parser upgrade"',
    '<%= config.bin %> <%= command.id %> --json',
  ]

  static override flags = {
    reason: Flags.string({
      description: 'why: recorded in the audit log with your name and the time',
      env: 'LINEAGE_REASON',
    }),
    ...targetFlags,
  }

  public async run(): Promise<ClearResult & {removedCopies: CorruptCopy[]}> {
    const {cacheFile, stateDir} = resolveSettings(this.target(this.flags).input)
    const result = clearCache(cacheFile)
    const removedCopies = removeCorruptCopies(cacheFile)
    await auditCacheClear(stateDir, {
      actor: actorFromEnv(),
      reason: this.flags.reason,
      entries: result.entries,
      copies: removedCopies.length,
    })
    this.log(describeClear(result))
    if (removedCopies.length > 0) {
      const bytes = removedCopies.reduce((n, c) => n + c.bytes, 0)
      this.log(`Removed ${removedCopies.length} damaged copy(ies) moved aside earlier (${formatBytes(bytes)}).`)
    }
    return {...result, removedCopies}
  }
}
