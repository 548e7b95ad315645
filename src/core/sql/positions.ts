/**
 * Offsets to 1-based line and column in the file as written, and the issues (code, message, position,
 * snippet) reported for a statement or the whole file.
 */
import type {LineageIssue} from '../types.js'

const SNIPPET_WIDTH = 100

export class SourceText {
  private readonly lineStarts: number[] = [0]

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1)
  }

  /** 1-based line and column of an offset (clamped to the text). */
  position(offset: number): {line: number; column: number} {
    const at = Math.max(0, Math.min(offset, this.text.length))
    let lo = 0
    let hi = this.lineStarts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((this.lineStarts[mid] ?? 0) <= at) lo = mid
      else hi = mid - 1
    }
    return {line: lo + 1, column: at - (this.lineStarts[lo] ?? 0) + 1}
  }

  /** The line containing the offset, cut to a window around it. */
  snippet(offset: number): string {
    const {line, column} = this.position(offset)
    const start = this.lineStarts[line - 1] ?? 0
    const next = this.lineStarts[line]
    const text = this.text.slice(start, next === undefined ? undefined : next - 1).replace(/\r$/, '')
    if (text.length <= SNIPPET_WIDTH) return text.trimEnd()
    const from = Math.max(0, Math.min(column - 1 - SNIPPET_WIDTH / 2, text.length - SNIPPET_WIDTH))
    return `${from > 0 ? '...' : ''}${text.slice(from, from + SNIPPET_WIDTH)}${from + SNIPPET_WIDTH < text.length ? '...' : ''}`
  }

  issue(code: string, message: string, offset: number): LineageIssue {
    const {line, column} = this.position(offset)
    return {code, message, line, column, snippet: this.snippet(offset)}
  }
}
