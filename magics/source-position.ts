/**
 * Maps positions in the JavaScript of a function written in a cell back to the TypeScript the
 * user wrote (for the function of a `%%pool map` body, see cell-positions.ts).
 * TypeScript's emitter may re-lay-out code (e.g. put an `if`'s statement on its own line), so line
 * numbers are not simply shifted: we transpile the same TypeScript again, the way cells are
 * transpiled (`transpileCell`), and read positions through its source map.
 */
import { transpileCell } from "../kernel/compiler/cell-script.js";
import { originalPosition } from "../kernel/compiler/source-map.js";

/** 1-based cell position from a 1-based position in the shipped code. */
export type PositionMapper = (line: number, column: number) => { line: number; column: number } | undefined;

function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 0;
  let last = -1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) { line++; last = i; }
  return { line, column: offset - last - 1 };
}

/**
 * For a function written in a cell: `tsText` is its TypeScript (starting at cell position
 * `start`, 0-based), `jsSource` what `fn.toString()` gave, which the worker compiles as
 * `(${jsSource}\n)` (so its first line has one extra column).
 */
export function functionPositionMapper(tsText: string, jsSource: string, start: { line: number; column: number }): PositionMapper | undefined {
  const { js, map } = transpileCell(`(${tsText}\n);`);
  const at = js.indexOf(jsSource);
  if (at < 0) return undefined;
  const base = lineCol(js, at);
  return (line, column) => {
    const jsLine = base.line + line - 1;
    const jsCol = line === 1 ? base.column + column - 2 : column - 1;
    const p = originalPosition(map, jsLine, Math.max(0, jsCol));
    if (!p) return undefined;
    const col = p.line === 0 ? p.column - 1 : p.column; // the "(" added above
    return {
      line: start.line + p.line + 1,
      column: (p.line === 0 ? start.column + col : col) + 1,
    };
  };
}
