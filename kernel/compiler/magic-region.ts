import ts from "./typescript.cjs";
import { mapBodyTyping, type MapBodyTyping } from "./map-body-typing.js";

/**
 * The TypeScript part of a cell for completion and inspection: the whole cell, the body of a
 * `%%` cell magic (whose first line is the magic's own syntax), or the TypeScript on a magic's
 * line (an ITERABLE, a timed statement). Undefined when the cursor is on magic syntax.
 */
export interface TypeScriptRegion {
  code: string;
  cursor: number;
  /** Offset of `code` in the cell: cell position = region position + offset. */
  offset: number;
  /** How the checker sees `code` (a `%%pool map|starmap` body: typed from its ITERABLE's items). */
  typing?: MapBodyTyping;
}

export function typeScriptRegion(code: string, cursor: number): TypeScriptRegion | undefined {
  const magic = /^(\s*)%(%?)/.exec(code);
  if (!magic) return { code, cursor, offset: 0 };
  const newline = code.indexOf("\n");
  const lineEnd = newline < 0 ? code.length : newline;
  if (cursor <= lineEnd) return expressionOnMagicLine(code.slice(0, lineEnd), cursor);
  if (!magic[2]) return undefined; // past a line magic's line
  const offset = newline + 1;
  const body = code.slice(offset);
  const map = /^\s*%%pool\s+(map|starmap)\s/.exec(code);
  const span = map ? magicLineExpression(code.slice(0, lineEnd)) : undefined;
  const iterable = span ? code.slice(span.start, span.end) : "";
  const typing = map && iterable.trim()
    ? mapBodyTyping(ts.createSourceFile("body.ts", body, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS), iterable, map[1] === "starmap")
    : undefined;
  return { code: body, cursor: cursor - offset, offset, typing };
}

/**
 * The TypeScript on a magic's own line: the ITERABLE of `%%pool map|starmap ITERABLE [--options]`,
 * the statement of `%time STATEMENT` and `%timeit [-n N] [-r R] STATEMENT`.
 */
function expressionOnMagicLine(line: string, cursor: number): TypeScriptRegion | undefined {
  const span = magicLineExpression(line);
  if (!span || cursor < span.start || cursor > span.end) return undefined;
  return { code: line.slice(span.start, span.end), cursor: cursor - span.start, offset: span.start };
}

/** Where the TypeScript on a magic's line is (see expressionOnMagicLine). */
function magicLineExpression(line: string): { start: number; end: number } | undefined {
  const head = /^\s*(?:%%pool\s+(?:map|starmap)|%time|%timeit(?:\s+-[nr]\s*\d+)*)\s+/.exec(line);
  if (!head) return undefined;
  const start = head[0].length;
  // The ITERABLE ends where the options begin.
  const options = /^\s*%%pool/.test(line) ? /\s--[a-z]/.exec(line.slice(start)) : null;
  return { start, end: options ? start + options.index : line.length };
}
