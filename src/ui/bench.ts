/**
 * The human form of `lineage bench`'s report: the graph line first, the workload, the parse ceiling, one table
 * row per step (its initial ingest as a share of the ceiling among them).
 */
import type {BenchReport} from '../bench/report.js'
import type {ScaleReport} from '../bench/scale.js'
import {makeTable} from './table.js'

const num = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits})

const ms = (n: number): string => (n >= 10_000 ? `${num(n / 1000, 1)} s` : `${num(n)} ms`)

export function renderBenchReport(report: BenchReport): string {
  const table = makeTable([
    'step',
    'files/min',
    'p50',
    'p95',
    'CPU s',
    'Neo4j CPU s',
    'peak RSS MB',
    'cache hits',
    'transactions',
    'speedup',
    'of ceiling',
    'same result',
  ])
  for (const s of report.steps) {
    table.push([
      s.name,
      num(s.filesPerMinute, 1),
      ms(s.p50Ms),
      ms(s.p95Ms),
      num(s.cpuSeconds, 1),
      s.neo4jCpuSeconds === null ? '-' : num(s.neo4jCpuSeconds, 1),
      num(s.peakRssMb),
      s.cacheHitRate === null ? 'off' : `${num(s.cacheHitRate * 100, 1)}%`,
      num(s.transactions),
      `${num(s.speedup, 1)}x`,
      s.ceilingRatio === null ? '-' : `${num(s.ceilingRatio * 100)}%`,
      s.matchesBaseline === null ? '(baseline)' : s.matchesBaseline ? 'yes' : 'NO',
    ])
  }
  const m = report.machine
  const c = report.ceiling
  const lines = [
    report.headline,
    `workload: ${report.workload.description}; ${num(report.workload.fileChanges)} file changes in all`,
    `machine: ${m.cpus} x ${m.cpuModel}, ${num(m.memoryGb, 1)} GB, Node ${m.node}; load average ${m.loadAverageAtStart.join(' ')} at the start, ${m.loadAverage.join(' ')} at the end`,
    `parse ceiling: ${num(c.filesPerSecond, 1)} files/s (${num(c.files)} files in memory, ${c.threads} thread${c.threads === 1 ? '' : 's'} = the available parallelism, ${num(c.seconds, 2)} s, extraction only)`,
    table.toString(),
    ...report.steps.map((s) => `  ${s.name}: ${s.summary}; initial ingest ${num(s.initialFilesPerSecond, 1)} files/s`),
  ]
  if (report.speedup !== null) {
    const min = report.minSpeedup === null ? '' : ` (minimum ${num(report.minSpeedup, 1)}x)`
    lines.push(`all on: ${num(report.speedup, 1)}x the baseline${min}`)
  }
  if (report.keptAt !== null) lines.push(`work folder kept: ${report.keptAt}`)
  return lines.join('\n')
}

/** The human form of `lineage bench --scale`: one row per folder size, the batcher's backlog, the flatness. */
export function renderScaleReport(report: ScaleReport): string {
  const table = makeTable(['files', 'result', 'wall', 'ms per file', 'CPU ms per file', 'peak RSS MB'])
  for (const s of report.sizes) {
    table.push([
      num(s.files),
      s.ok ? 'ok' : `FAILED: ${s.problem ?? ''}`,
      s.seconds === null ? '-' : `${num(s.seconds, 1)} s`,
      s.msPerFile === null ? '-' : num(s.msPerFile, 2),
      s.cpuMsPerFile === null ? '-' : num(s.cpuMsPerFile, 2),
      s.peakRssMb === null ? '-' : num(s.peakRssMb),
    ])
  }
  const lines = [
    'watch --once over tiny generated files, built-in defaults (embedded, no graph), each size in a process of its own',
    table.toString(),
  ]
  const b = report.backlog
  if (b) {
    lines.push(
      `batcher: ${num(b.events)} pending events pushed in ${num(b.pushSeconds, 2)} s, drained in ${num(b.batches)} ` +
        `batches of 50 in ${num(b.drainSeconds, 2)} s (${num(b.firstBatchesUs, 1)} µs per batch in the first tenth, ` +
        `${num(b.lastBatchesUs, 1)} µs in the last)`,
    )
  }
  if (report.flatness) {
    lines.push(
      `largest over smallest size: ${num(report.flatness.msPerFileRatio, 2)}x the wall time per file, ` +
        `${num(report.flatness.peakRssRatio, 2)}x the peak RSS`,
    )
  }
  const [l1 = 0, , l15 = 0] = report.machine.loadAverageAtStart
  lines.push(
    `load average at start ${num(l1, 2)} (15 min ${num(l15, 2)}), at end ${num(report.machine.loadAverageAtEnd[0] ?? 0, 2)}`,
  )
  return lines.join('\n')
}
