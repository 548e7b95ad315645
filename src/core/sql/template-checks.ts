/**
 * Keeps unrendered template placeholders out of the lineage. Each placeholder without a value inside a
 * statement is reported as a warning; a table (or path, or column) whose name contains the placeholder's
 * marker is removed, and the statement then fails with E_TEMPLATE at the placeholder, so the gap is
 * visible instead of a table named `${env}_orders` appearing in the graph.
 */
import type {StatementLineage} from '../types.js'
import type {SourceText} from './positions.js'
import {UNRENDERED_MARKER, type Rendered} from './template.js'

const hasMarker = (s: string): boolean => s.includes(UNRENDERED_MARKER)

export function applyTemplateChecks(
  st: StatementLineage,
  warnings: string[],
  range: {start: number; end: number},
  rendered: Rendered,
  src: SourceText,
): void {
  const unrendered = rendered.placeholders.filter((p) => !p.rendered && p.start >= range.start && p.start < range.end)
  if (unrendered.length === 0) return
  for (const p of unrendered) {
    const {line, column} = src.position(p.start)
    warnings.push(
      `unrendered template placeholder "${src.text.slice(p.start, p.end)}" at ${line}:${column} (pass --var ${p.name}=...)`,
    )
  }
  const dropped = [...st.sources, ...st.targets].filter(hasMarker)
  st.sources = st.sources.filter((t) => !hasMarker(t))
  st.targets = st.targets.filter((t) => !hasMarker(t))
  st.columns = st.columns
    .filter((c) => !hasMarker(c.target))
    .map((c) => ({...c, sources: c.sources.filter((s) => !hasMarker(s))}))
  if (st.drops) st.drops = st.drops.filter((t) => !hasMarker(t))
  if (st.renames) st.renames = st.renames.filter((r) => !hasMarker(r.from) && !hasMarker(r.to))
  if (dropped.length === 0 || st.status === 'skipped') return
  const first = unrendered[0]
  if (!first) return
  st.status = 'failed'
  st.error = src.issue(
    'E_TEMPLATE',
    `table name depends on unrendered placeholder "${src.text.slice(first.start, first.end)}"; the table was left out`,
    first.start,
  )
}
