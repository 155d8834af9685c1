/**
 * The TypeScript part of a cell for completion and inspection: the whole cell, or the body of a
 * `%%` cell magic (whose first line is the magic's own syntax). Undefined when the cursor is on
 * magic syntax (a `%` line magic, or the `%%` line).
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
  if (!magic[2]) return undefined; // a line magic
  const newline = code.indexOf("\n");
  if (newline < 0 || cursor <= newline) return undefined;
  const offset = newline + 1;
  return { code: code.slice(offset), cursor: cursor - offset, offset };
}
