import {Flags} from '@oclif/core'

import {BaseCommand, targetFlags} from '../../base-command.js'
import {
  assertCacheHealthy,
  cacheStats,
  checkCache,
  corruptCopies,
  type CacheStatsResult,
  type CorruptCopy,
  resolveSettings,
} from '../../core/index.js'
import {describeCacheStats, formatBytes} from '../../ui/cache.js'

export default class CacheStats extends BaseCommand<typeof CacheStats> {
  static override summary = 'Show the parse cache: entries, size, hit rate, parser versions'
  static override description = `Reads the parse cache (LINEAGE_CACHE_FILE, default data/cache/parse-cache.sqlite) \
without changing it, also while "lineage watch" runs: entries, size on disk (database and WAL), hits, misses \
and hit rate since the cache was created or last cleared, the oldest and newest entry, and the parser versions \
present. A missing cache is reported as "no cache yet" (exit 0). A corrupt cache exits 1 with the code \
E_CACHE_CORRUPT; "lineage cache clear" fixes it. --check also runs SQLite's full integrity check and checks \
every entry against the checksum written with it, which reads the whole file; entries that fail it (their \
lineage was changed after it was written) make it exit 1 with E_CACHE_CORRUPT, their count in the JSON error's \
details.badEntries. A running watch drops such an entry when it reads it and parses the file again.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --check',
    '<%= config.bin %> <%= command.id %> --json',
  ]

  static override flags = {
    check: Flags.boolean({
      description: 'also run the integrity check and verify every entry checksum; exit 1 if either fails',
    }),
    ...targetFlags,
  }

  public async run(): Promise<CacheStatsResult & {corruptCopies: CorruptCopy[]}> {
    const {cacheFile} = resolveSettings(this.target(this.flags).input)
    const stats = cacheStats(cacheFile)
    const check = this.flags.check && stats.status === 'ok' ? checkCache(cacheFile) : null
    for (const line of describeCacheStats(stats, check)) this.log(line)
    // Damaged copies moved aside earlier take disk space until "cache clear" removes them.
    const copies = corruptCopies(cacheFile)
    for (const c of copies)
      this.log(`Damaged copy     ${c.file} (${formatBytes(c.bytes)}; "lineage cache clear" removes it)`)
    assertCacheHealthy(stats, check)
    return {...stats, check, corruptCopies: copies}
  }
}
