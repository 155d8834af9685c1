/**
 * Rewrites stack traces of cell code to the cells' own line numbers (through each cell's source
 * map), in two views:
 * - the traceback of an error a cell does not catch (`frames`): cell frames mapped, every frame
 *   of the kernel itself and of Node's internals dropped;
 * - `err.stack` as cell code reads, prints or shows it (`userFrames`, used by the executor's
 *   Error.prepareStackTrace, see cell-stack-traces.ts): cell frames mapped, the kernel's frames
 *   and the machinery that runs the cell dropped, frames of the user's libraries and of Node's
 *   built-ins kept as Node's REPL shows them.
 * A stack formatted for the user is remembered per error, so that the traceback of such an error,
 * when it is thrown later, does not map its frames a second time.
 */
import type { LineMappings } from "../compiler/source-map.js";
import { originalPosition } from "../compiler/source-map.js";
import { distRoot } from "../compiler/paths.js";
import { originalColumn, type ColumnAnchors } from "../compiler/cell-script.js";
import { sep } from "node:path";
import { fileURLToPath } from "node:url";

interface Registered { map: LineMappings; columns: ColumnAnchors; lineOffset: number; lines: number; displayName: string }

/**
 * What a frame is: code of a cell; the line of a cell's script that only invokes its wrapper;
 * the kernel's own code; Node's internals and built-ins; anything else (the user's libraries,
 * eval'd code).
 */
type FrameKind = "cell" | "invocation" | "kernel" | "internal" | "other";

interface Frame { kind: FrameKind; text: string }

/** `    at [async ]` and the rest of a frame line. */
const AT = /^(\s*at (?:async )?)(.*)$/;
/** `file:line:column` at the end of a location. */
const POSITION = /^(.*):(\d+):(\d+)$/;
/** Positions inside a frame's text (e.g. the `eval at` origin of eval'd code). */
const POSITIONS = /([^\s(),]+):(\d+):(\d+)/g;

export class StackMapper {
  readonly #scripts = new Map<string, Registered>();
  /** Frame lines `userFrames` produced for an error (already mapped). */
  readonly #mappedForUser = new WeakMap<object, ReadonlySet<string>>();

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

  /**
   * The frames of a stack (without its message lines) for the traceback of an uncaught error:
   * mapped, without the kernel's or Node's frames. Lines in `alreadyMapped` are kept as they are.
   */
  frames(stack: string, alreadyMapped?: ReadonlySet<string>): string[] {
    const out: string[] = [];
    for (const raw of stack.split("\n")) {
      const frame = this.#frame(raw, !alreadyMapped?.has(raw));
      if (frame && (frame.kind === "cell" || frame.kind === "other")) out.push(frame.text);
    }
    return out;
  }

  /** `frames` of an error's own stack, knowing which of its lines were mapped already. */
  framesOf(err: { stack?: unknown }): string[] {
    const stack = err.stack; // read first: reading it may format it (and remember its lines)
    return typeof stack === "string" ? this.frames(stack, this.#mappedForUser.get(err)) : [];
  }

  /** A whole stack: message lines kept, frames mapped. */
  mapStack(stack: string): string {
    const lines = stack.split("\n");
    const firstFrame = lines.findIndex((l) => this.#frame(l, true));
    const head = firstFrame < 0 ? lines : lines.slice(0, firstFrame);
    return [...head, ...this.frames(stack)].join("\n");
  }

  /**
   * The frames of `err`'s stack as cell code sees it, from its frame lines as V8 formats them
   * (`    at ` + CallSite): undefined when none is cell code (the stack is then not the cells'
   * business). Cell frames are mapped; the kernel's frames go, and so does everything from the
   * kernel frame that ran the outermost cell frame on (Node's frames that called it included).
   */
  userFrames(err: object, lines: readonly string[]): string[] | undefined {
    const frames = lines.map((l) => this.#frame(l, true) ?? { kind: "other" as const, text: l });
    const outermostCell = frames.findLastIndex((f) => f.kind === "cell");
    if (outermostCell < 0) return undefined;
    const isKernel = (f: Frame | undefined) => f?.kind === "kernel" || f?.kind === "invocation";
    const runner = frames.findIndex((f, i) => i > outermostCell && isKernel(f));
    const end = runner < 0 ? frames.length : runner;
    const out: string[] = [];
    for (let i = 0; i < end; i++) {
      const f = frames[i]!;
      if (isKernel(f)) continue;
      if (f.kind === "internal") {
        // Node's frames called by the kernel (not by user code) are the kernel's doing.
        let caller = i + 1;
        while (frames[caller]?.kind === "internal") caller++;
        if (isKernel(frames[caller])) continue;
      }
      out.push(f.text);
    }
    this.#mappedForUser.set(err, new Set(out));
    return out;
  }

  /** A frame line's kind and its text with cell positions mapped (undefined: not a frame line). */
  #frame(raw: string, map: boolean): Frame | undefined {
    const m = AT.exec(raw);
    if (!m) return undefined;
    const [, at, rest] = m as unknown as [string, string, string];
    const { fn, location } = splitFrame(rest);
    const pos = POSITION.exec(location);
    const file = pos ? pos[1]! : location;
    const script = map ? this.#scripts.get(file) : undefined;
    if (script && pos) {
      const line = Number(pos[2]);
      if (line >= script.lines) return { kind: "invocation", text: raw }; // the wrapper's invocation, not cell code
      const where = this.#mapped(file, script, line, Number(pos[3]));
      return { kind: "cell", text: fn !== undefined ? `${at}${fn} (${where})` : `${at}${where}` };
    }
    if (isKernelFile(file)) return { kind: "kernel", text: raw };
    if (isNodeInternal(file)) return { kind: "internal", text: raw };
    return { kind: "other", text: map ? this.#mapPositions(raw) : raw };
  }

  #mapped(file: string, script: Registered, line: number, column: number): string {
    const p = this.position(file, line, column);
    return `${script.displayName}:${p ? `${p.line}:${p.column}` : `${line}:${column}`}`;
  }

  /** Cell positions anywhere in a frame's text (e.g. where eval'd code was eval'd), mapped. */
  #mapPositions(text: string): string {
    return text.replace(POSITIONS, (whole, file: string, line: string, column: string) => {
      const script = this.#scripts.get(file);
      return script ? this.#mapped(file, script, Number(line), Number(column)) : whole;
    });
  }
}

/** `fn (location)` or `location` (the location may hold parentheses: `eval at f (cell[1]:1:1), <anonymous>:1:1`). */
function splitFrame(rest: string): { fn?: string; location: string } {
  if (!rest.endsWith(")")) return { location: rest };
  let depth = 0;
  for (let i = rest.length - 1; i >= 0; i--) {
    if (rest[i] === ")") depth++;
    else if (rest[i] === "(" && --depth === 0) {
      if (i < 2 || rest[i - 1] !== " ") return { location: rest };
      return { fn: rest.slice(0, i - 1), location: rest.slice(i + 1, -1) };
    }
  }
  return { location: rest };
}

/** Node's own code and built-ins: `node:` modules, native functions, `Promise.all (index 0)`. */
function isNodeInternal(file: string): boolean {
  return file.startsWith("node:") || file === "native" || file.startsWith("evalmachine") || file === "<anonymous>" || /^index \d+$/.test(file);
}

/** The kernel's compiled code (dist/), as a path or a file: URL. */
function isKernelFile(file: string): boolean {
  let path = file;
  if (file.startsWith("file://")) {
    try {
      path = fileURLToPath(file);
    } catch {
      return false;
    }
  }
  return path === distRoot || path.startsWith(distRoot + sep);
}
