import {type CacheCheck, type CacheStats, type ClearResult} from '../core/index.js'
/** The human lines of `cache stats` and `cache clear`. */

/** Short human lines for `cache stats`. */
export function describeCacheStats(stats: CacheStats, check: CacheCheck | null): string[] {
  if (stats.status === 'missing') return [`No parse cache yet at ${stats.file}; watch creates it on its first parse.`]
  if (stats.status !== 'ok') return [`Parse cache  ${stats.file}`, `Status       ${stats.status}`]
  const count = (n: number): string => n.toLocaleString('en-US')
  const rate = stats.hitRate === null ? 'no lookups' : `hit rate ${(stats.hitRate * 100).toFixed(1)}%`
  const versions = stats.parserVersions.map((v) => `${v.parserVersion} (${count(v.entries)})`).join(', ')
  const lines = [
    `Parse cache      ${stats.file}`,
    `Entries          ${count(stats.entries)}`,
    `Size on disk     ${formatBytes(stats.sizeBytes)} (database ${formatBytes(stats.dbBytes)}, WAL ${formatBytes(stats.walBytes)})`,
    `Hits / misses    ${count(stats.hits)} / ${count(stats.misses)}, ${rate} since ${stats.countersSince ?? '?'}`,
    `Oldest / newest  ${stats.oldestEntry ?? '-'} / ${stats.newestEntry ?? '-'}`,
    `Parser versions  ${versions || '-'}`,
  ]
  if (stats.quarantined.length > 0) lines.push(`Moved aside      ${stats.quarantined.join(', ')}`)
  if (check) lines.push(`Integrity        ${check.ok ? 'ok' : `damaged (${check.problems.length} problem(s))`}`)
  if (check && check.badEntries !== null) {
    lines.push(
      `Checksums        ${check.badEntries === 0 ? 'ok' : `${count(check.badEntries)} bad entr${check.badEntries === 1 ? 'y' : 'ies'}`}`,
    )
  }
  return lines
}

/** One human line for `cache clear`. */
export function describeClear(r: ClearResult): string {
  if (r.action === 'missing') return `No parse cache at ${r.file}; nothing to clear.`
  if (r.action === 'recreated') {
    return `The parse cache ${r.file} was damaged (${r.reason ?? '?'}); removed it (${formatBytes(r.bytesBefore)}) and created an empty one.`
  }
  const entries = `${(r.entries ?? 0).toLocaleString('en-US')} entr${r.entries === 1 ? 'y' : 'ies'}`
  return `Cleared the parse cache ${r.file}: removed ${entries}, freed ${formatBytes(r.bytesFreed)}.`
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit] ?? 'TB'}`
}
