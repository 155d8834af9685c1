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
}

export function typeScriptRegion(code: string, cursor: number): TypeScriptRegion | undefined {
  const magic = /^(\s*)%(%?)/.exec(code);
  if (!magic) return { code, cursor, offset: 0 };
  const newline = code.indexOf("\n");
  const lineEnd = newline < 0 ? code.length : newline;
  if (cursor <= lineEnd) return expressionOnMagicLine(code.slice(0, lineEnd), cursor);
  if (!magic[2]) return undefined; // past a line magic's line
  const offset = newline + 1;
  return { code: code.slice(offset), cursor: cursor - offset, offset };
}

/**
 * The TypeScript on a magic's own line: the ITERABLE of `%%pool map|starmap ITERABLE [--options]`,
 * the statement of `%time STATEMENT` and `%timeit [-n N] [-r R] STATEMENT`.
 */
function expressionOnMagicLine(line: string, cursor: number): TypeScriptRegion | undefined {
  const head = /^\s*(?:%%pool\s+(?:map|starmap)|%time|%timeit(?:\s+-[nr]\s*\d+)*)\s+/.exec(line);
  if (!head) return undefined;
  const offset = head[0].length;
  if (cursor < offset) return undefined;
  // The ITERABLE ends where the options begin.
  const options = /^\s*%%pool/.test(line) ? /\s--[a-z]/.exec(line.slice(offset)) : null;
  const end = options ? offset + options.index : line.length;
  if (cursor > end) return undefined;
  return { code: line.slice(offset, end), cursor: cursor - offset, offset };
}
