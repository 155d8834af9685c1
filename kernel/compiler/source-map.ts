/**
 * A small reader for the source maps `ts.transpileModule` writes (version 3, one source): maps a
 * generated line/column back to the cell's line/column.
 */

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** Per generated line: segments [generatedColumn, sourceLine, sourceColumn], sorted by column (all 0-based). */
export type LineMappings = Array<Array<[number, number, number]>>;

export function decodeMappings(mappings: string): LineMappings {
  const lines: LineMappings = [];
  let srcLine = 0;
  let srcCol = 0;
  for (const lineText of mappings.split(";")) {
    const segs: Array<[number, number, number]> = [];
    let genCol = 0;
    if (lineText)
      for (const segText of lineText.split(",")) {
        const values: number[] = [];
        let value = 0;
        let shift = 0;
        for (const ch of segText) {
          const digit = DIGIT.get(ch);
          if (digit === undefined) break;
          value += (digit & 31) << shift;
          if (digit & 32) shift += 5;
          else {
            values.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        genCol += values[0] ?? 0;
        if (values.length >= 4) {
          srcLine += values[2]!;
          srcCol += values[3]!;
          segs.push([genCol, srcLine, srcCol]);
        }
      }
    lines.push(segs);
  }
  return lines;
}

/** The cell position (0-based line and column) of a generated position, or undefined. */
export function originalPosition(map: LineMappings, line: number, column: number): { line: number; column: number } | undefined {
  const segs = map[line];
  if (!segs || segs.length === 0) {
    // No mapping on this line (e.g. a line the emitter added): use the nearest mapped line above.
    for (let l = Math.min(line, map.length) - 1; l >= 0; l--) {
      const s = map[l];
      if (s && s.length) return { line: s[s.length - 1]![1], column: s[s.length - 1]![2] };
    }
    return undefined;
  }
  let best = segs[0]!;
  for (const s of segs) {
    if (s[0] <= column) best = s;
    else break;
  }
  return { line: best[1], column: best[2] };
}
