import {BaseCommand, targetFlags} from '../../base-command.js'
import {clearCache, resolveSettings, type ClearResult} from '../../core/index.js'
import {describeClear} from '../../ui/cache.js'

export default class CacheClear extends BaseCommand<typeof CacheClear> {
  static override summary = 'Empty the parse cache'
  static override description = `Removes every entry from the parse cache (LINEAGE_CACHE_FILE) and resets its hit \
and miss counters, then gives the space back to the disk. It is safe while "lineage watch" runs: the watcher \
keeps its connection and simply parses files again as they change. A damaged cache file is removed and an \
empty one created in its place; a running watcher reopens it within about a second. It never asks for \
confirmation. Files are re-parsed and the cache refills as they are ingested.`

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  static override flags = {...targetFlags}

  public async run(): Promise<ClearResult> {
    const {cacheFile} = resolveSettings(this.target(this.flags).input)
    const result = clearCache(cacheFile)
    this.log(describeClear(result))
    return result
  }
}
