/**
 * The Jupyter protocol (5.2+) counts cursor positions in Unicode code points; JavaScript strings
 * (and so the executor) index UTF-16 code units. These convert between the two.
 */

/** UTF-16 index of the position `codePoints` code points into `text` (clamped to the text). */
export function codePointToUtf16(text: string, codePoints: number): number {
  if (!Number.isFinite(codePoints) || codePoints <= 0) return 0;
  let cp = 0;
  let i = 0;
  while (i < text.length && cp < codePoints) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
    cp++;
  }
  return i;
}

/** Number of code points in the first `utf16` code units of `text`. */
export function utf16ToCodePoint(text: string, utf16: number): number {
  const end = Math.max(0, Math.min(utf16, text.length));
  let cp = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end && isLowSurrogate(text.charCodeAt(i + 1))) i++;
    cp++;
  }
  return cp;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
