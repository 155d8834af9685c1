/**
 * Maps positions in JavaScript that was shipped to workers back to the TypeScript the user wrote.
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

/**
 * For a `%%pool run` body compiled as a worker script: the script keeps the transpiled code's
 * lines (its first line may carry a prefix), so positions go through the transpile's map.
 * `lineOffset`: cell lines before the body.
 */
export function scriptPositionMapper(tsBody: string, lineOffset: number): PositionMapper {
  const { map } = transpileCell(tsBody);
  return (line, column) => {
    const p = originalPosition(map, line - 1, Math.max(0, column - 1));
    if (!p) return { line: line + lineOffset, column };
    return { line: p.line + 1 + lineOffset, column: p.column + 1 };
  };
}
