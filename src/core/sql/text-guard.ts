/**
 * Decides whether file content is text the extractor can read: binary content (a NUL byte), UTF-16 and
 * invalid UTF-8 are refused with a message saying where and what to do; a UTF-8 byte order mark is
 * stripped. Works on the Buffer, before any decoding, so a Latin-1 file is never silently mangled.
 */

export type TextCheck = {ok: true; text: string} | {ok: false; message: string}

export function decodeSqlBuffer(content: Buffer): TextCheck {
  if (
    content.length >= 2 &&
    ((content[0] === 0xff && content[1] === 0xfe) || (content[0] === 0xfe && content[1] === 0xff))
  ) {
    return {ok: false, message: 'file is UTF-16 encoded, not UTF-8; convert it (e.g. iconv -f UTF-16 -t UTF-8)'}
  }
  const nul = content.indexOf(0)
  if (nul >= 0) return {ok: false, message: `binary content (NUL byte at offset ${nul}), not a SQL text file`}
  const bad = firstInvalidUtf8(content)
  if (bad >= 0) {
    const line = content.subarray(0, bad).toString('latin1').split('\n').length
    return {
      ok: false,
      message: `not valid UTF-8 (byte 0x${(content[bad] ?? 0).toString(16)} at offset ${bad}, line ${line}); convert the file to UTF-8`,
    }
  }
  const start = content.length >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0
  return {ok: true, text: content.toString('utf8', start)}
}

/** Offset of the first byte that breaks UTF-8, or -1. */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0
  const n = b.length
  while (i < n) {
    const c = b[i] ?? 0
    if (c < 0x80) {
      i++
      continue
    }
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0
    if (len === 0 || i + len > n) return i
    for (let k = 1; k < len; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i
    if (len === 3 && ((c === 0xe0 && (b[i + 1] ?? 0) < 0xa0) || (c === 0xed && (b[i + 1] ?? 0) > 0x9f))) return i
    if (len === 4 && ((c === 0xf0 && (b[i + 1] ?? 0) < 0x90) || (c === 0xf4 && (b[i + 1] ?? 0) > 0x8f))) return i
    i += len
  }
  return -1
}
