/**
 * Turns TypeScript diagnostics of a cell's virtual file into the `error` a cell reports: each
 * diagnostic with the cell's own line:column, the source line and a caret under the span.
 */
import ts from "./typescript.cjs";
import type { ExecuteError } from "../executor/protocol.js";
import type { BindingKind } from "./bindings.js";
import type { CellFile } from "./checker.js";

const CANNOT_ASSIGN_TO_IMPORT = 2632;

export interface CellDiagnostic {
  line: number; // 1-based cell line (0 when the diagnostic has no position in the cell)
  column: number; // 1-based
  length: number;
  code: number;
  message: string;
}

/**
 * Diagnostics as cell positions. An assignment to an earlier cell's const, function, class etc.
 * (which the header imports, so TypeScript calls it an import) says what the name is and where it
 * came from. A diagnostic in the `export { ... }` the checker appends to the cell is put at the
 * end of the cell's text, unless the cell's own text already has the same one (then it is only
 * the echo of that one).
 */
export function toCellDiagnostics(
  diags: readonly ts.Diagnostic[],
  file: CellFile,
  source: string,
  kindOf: (name: string) => { kind: BindingKind; cell: number } | undefined,
): CellDiagnostic[] {
  const out: CellDiagnostic[] = [];
  const tail: CellDiagnostic[] = [];
  for (const d of diags) {
    let message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (d.file && d.file.fileName !== file.fileName) {
      const where = d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      out.push({ line: 0, column: 0, length: 0, code: d.code, message: `${message} (in ${d.file.fileName}${where ? `:${where.line + 1}:${where.character + 1}` : ""})` });
      continue;
    }
    const offset = d.start === undefined ? -1 : d.start - file.headerLength;
    if (d.code === CANNOT_ASSIGN_TO_IMPORT && offset >= 0) {
      const name = source.slice(offset, offset + (d.length ?? 0));
      const binding = kindOf(name);
      if (binding) message = `Cannot assign to '${name}' because it is ${/^[aeiou]/.test(binding.kind) ? "an" : "a"} ${binding.kind} (declared in cell [${binding.cell}]).`;
    }
    if (offset < 0) {
      out.push({ line: 0, column: 0, length: 0, code: d.code, message });
      continue;
    }
    const inTail = offset > source.length;
    (inTail ? tail : out).push({ ...positionOf(source, Math.min(offset, source.length)), length: inTail ? 0 : d.length ?? 0, code: d.code, message });
  }
  for (const d of tail) if (!out.some((o) => o.code === d.code && o.message === d.message)) out.push(d);
  return out;
}

/** 1-based line and column of an offset in a text (a cell's, a script's), as diagnostics and stack traces give them. */
export function positionOf(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - (before.lastIndexOf("\n") + 1) + 1 };
}

/** The `error` reply for diagnostics that stop a cell (never empty). */
export function compileError(diags: CellDiagnostic[], source: string, lineOffset = 0): ExecuteError {
  const lines = source.split(/\r?\n/);
  const traceback: string[] = [];
  for (const d of diags) {
    const where = d.line ? `cell line ${d.line + lineOffset}:${d.column}` : "cell";
    traceback.push(`${where} - error TS${d.code}: ${d.message}`);
    if (d.line) {
      const text = lines[d.line - 1] ?? "";
      const gutter = String(d.line + lineOffset);
      traceback.push(`  ${gutter} | ${text}`);
      const width = Math.max(1, Math.min(d.length, text.length - (d.column - 1)));
      traceback.push(`  ${" ".repeat(gutter.length)} | ${" ".repeat(d.column - 1)}${"^".repeat(width)}`);
    }
  }
  const first = diags[0]!;
  const count = diags.length > 1 ? ` (and ${diags.length - 1} more)` : "";
  const evalue = `${first.line ? `${first.line + lineOffset}:${first.column} ` : ""}${first.message}${count}`;
  return { status: "error", ename: "TSError", evalue, traceback };
}
