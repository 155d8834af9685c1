/**
 * Rewrites stack traces of cell code to the cells' own line numbers (through each cell's source
 * map) and drops frames of the kernel itself and of Node's internals.
 */
import type { LineMappings } from "../compiler/source-map.js";
import { originalPosition } from "../compiler/source-map.js";
import { distRoot } from "../compiler/paths.js";
import { originalColumn, type ColumnAnchors } from "../compiler/cell-script.js";
import { fileURLToPath } from "node:url";

interface Registered { map: LineMappings; columns: ColumnAnchors; lineOffset: number; lines: number; displayName: string }

const FRAME = /^(\s*at (?:async )?)(?:(.*?) \()?((?:cell\[[^\]]*\])|(?:[^()]+?)):(\d+):(\d+)\)?$/;

export class StackMapper {
  readonly #scripts = new Map<string, Registered>();

  /** `lines`: the script's line count; its last line only calls the cell's async wrapper. */
  /** `displayName`: how mapped frames name the code (default: `filename` itself). */
  register(filename: string, map: LineMappings, columns: ColumnAnchors, lineOffset = 0, lines = Infinity, displayName = filename): void {
    this.#scripts.set(filename, { map, columns, lineOffset, lines, displayName });
  }

  /** Cell position (1-based) of a generated position in a registered script. */
  position(filename: string, line: number, column: number): { line: number; column: number } | undefined {
    const s = this.#scripts.get(filename);
    if (!s) return undefined;
    const genLine = line - 1;
    const genCol = originalColumn(s.columns, genLine, column - 1);
    const p = originalPosition(s.map, genLine, genCol);
    return p && { line: p.line + 1 + s.lineOffset, column: p.column + 1 };
  }

  /** The frames of a stack (without its message lines), mapped and filtered. */
  frames(stack: string): string[] {
    const out: string[] = [];
    for (const raw of stack.split("\n")) {
      const m = FRAME.exec(raw);
      if (!m) continue;
      const [, at, fn, file, line, col] = m;
      const script = this.#scripts.get(file!);
      if (script) {
        if (Number(line) >= script.lines) continue; // the wrapper's invocation, not cell code
        const p = this.position(file!, Number(line), Number(col));
        const where = `${script.displayName}:${p ? `${p.line}:${p.column}` : `${line}:${col}`}`;
        out.push(fn ? `${at}${fn} (${where})` : `${at}${where}`);
        continue;
      }
      if (isInternal(file!)) continue;
      out.push(raw);
    }
    return out;
  }

  /** A whole stack: message lines kept, frames mapped. */
  mapStack(stack: string): string {
    const lines = stack.split("\n");
    const firstFrame = lines.findIndex((l) => FRAME.test(l));
    const head = firstFrame < 0 ? lines : lines.slice(0, firstFrame);
    return [...head, ...this.frames(stack)].join("\n");
  }
}

function isInternal(file: string): boolean {
  if (file.startsWith("node:") || file === "native" || file.startsWith("evalmachine") || file === "<anonymous>") return true;
  let path = file;
  if (file.startsWith("file://")) {
    try {
      path = fileURLToPath(file);
    } catch {
      return false;
    }
  }
  return path.startsWith(distRoot);
}
