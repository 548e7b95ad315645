/**
 * Text edits that remember where every character came from. The template renderer and the dialect
 * rewrites (which turn syntax the grammars reject into syntax they accept) both produce new text; an
 * `OffsetMap` takes a position in the new text (a grammar's error, a statement start) back to the text
 * the user wrote, so every reported line and column points into the real file.
 */

export interface Edit {
  start: number
  end: number
  replacement: string
}

interface Replacement {
  origStart: number
  origEnd: number
  newStart: number
  newEnd: number
}

/** Maps offsets in edited text back to the text before the edits. */
export class OffsetMap {
  static readonly identity = new OffsetMap([])

  constructor(private readonly reps: readonly Replacement[]) {}

  toOriginal(offset: number): number {
    let lo = 0
    let hi = this.reps.length - 1
    let found: Replacement | undefined
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const r = this.reps[mid]
      if (r && r.newStart <= offset) {
        found = r
        lo = mid + 1
      } else hi = mid - 1
    }
    if (!found) return offset
    if (offset < found.newEnd) return found.origStart
    return found.origEnd + (offset - found.newEnd)
  }
}

/** Apply non-overlapping edits (overlapping later ones are dropped); returns the text and its map. */
export function applyEdits(text: string, edits: readonly Edit[]): {text: string; map: OffsetMap} {
  if (edits.length === 0) return {text, map: OffsetMap.identity}
  const sorted = [...edits].sort((a, b) => a.start - b.start)
  const reps: Replacement[] = []
  let out = ''
  let pos = 0
  for (const e of sorted) {
    if (e.start < pos) continue
    out += text.slice(pos, e.start)
    reps.push({origStart: e.start, origEnd: e.end, newStart: out.length, newEnd: out.length + e.replacement.length})
    out += e.replacement
    pos = e.end
  }
  out += text.slice(pos)
  return {text: out, map: new OffsetMap(reps)}
}

/** An edit that blanks a range with spaces (keeping line breaks), so offsets do not move at all. */
export function blank(text: string, start: number, end: number): Edit {
  return {start, end, replacement: text.slice(start, end).replace(/[^\n]/g, ' ')}
}
