/**
 * Gives the code a task ships to the workers the cell positions of its source, so that stack
 * traces on the workers read in cell terms (see worker-stack-traces.ts). Each piece of the
 * notebook's code in a task — the function itself and each function, class, enum or namespace it
 * takes along — runs under a file name of its own (a `//# sourceURL=`, derived from its content
 * and where it was defined, so an unchanged piece keeps its name and the farm's dependency cache
 * keeps it too), and carries, on a line of its own in front of it, the registration of the table
 * from its positions to its cell's lines and columns. So nothing travels apart from the code.
 *
 * Where a piece is: the function of a `%%pool map` body and a `%%pool run` body come with their
 * own mapping; other code is found in the scripts the cells ran as (Session.locate: a binding's
 * in its defining cell's script, a function passed to the `pool` object in the calling cell's),
 * whose source maps the session's stack mapper holds.
 */
import { createHash } from "node:crypto";
import type { Dep, TaskCode } from "../farm/task-code.js";
import { distRoot } from "../kernel/compiler/paths.js";
import { declarationInScript } from "../kernel/compiler/cell-script.js";
import type { PositionMapper } from "./source-position.js";
import { CLASS_AWARE_FN } from "./class-instances.js";
import { installWorkerStackTraces, POSITIONS_KEY, type PositionTable } from "./worker-stack-traces.js";

/** Where a script cells ran as has a piece of code (1-based, as in stack traces). */
export interface ScriptPosition { script: string; line: number; column: number }

/** What the session offers for finding code (see Session.locate and StackMapper.position). */
export interface PositionSource {
  readonly bindings: { get(name: string): { cell: number; js?: string } | undefined };
  locate(source: string, cell?: number): ScriptPosition | undefined;
  readonly stacks: { position(filename: string, line: number, column: number): { line: number; column: number } | undefined };
}

/** Where the task's own function is, when its caller knows. */
export interface FunctionOrigin {
  /** How frames name its cell, e.g. `cell[7]`. */
  cell: string;
  /** Cell position of a position in `(${fn}\n)`, as the farm would compile the function alone. */
  map: PositionMapper;
}

/** A script a task runs itself (a `%%pool run` body, through eval), under its own `//# sourceURL=`. */
export interface ScriptOrigin {
  file: string;
  code: string;
  cell: string;
  /** Cell position of a position in `code`. */
  map: PositionMapper;
}

/** The script that installs the workers' formatter (the same for every task: a worker runs it once). */
const INSTALL: Dep = {
  script: `(${installWorkerStackTraces.toString()})(${JSON.stringify(distRoot)}, ${JSON.stringify(POSITIONS_KEY)});`,
};

/** The offset of each line's start in `text`. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of offset `at` in the text whose line starts are `starts`. */
function lineColumn(starts: readonly number[], at: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: at - starts[lo]! + 1 };
}

/**
 * The table of code whose lines are `lines`, each column mapped through `map`, behind one line
 * (the registration's) that maps nowhere. Cell positions are constant between source-map
 * segments, so runs of equal positions keep the table small.
 */
function tableOf(lines: string[], cell: string, map: PositionMapper): PositionTable {
  const rows = lines.map((text, i) => {
    const row: number[] = [];
    let last = "";
    for (let column = 1; column <= text.length + 1; column++) {
      const p = map(i + 1, column);
      const here = p ? `${p.line}:${p.column}` : "-";
      if (here === last) continue;
      last = here;
      row.push(column, p?.line ?? 0, p?.column ?? 0);
    }
    return row;
  });
  return { cell, rows: [[], ...rows] };
}

/** The line that registers `table` for `file` on a worker (after INSTALL), as an expression. */
function registration(file: string, table: PositionTable): string {
  return `globalThis[Symbol.for(${JSON.stringify(POSITIONS_KEY)})]?.set(${JSON.stringify(file)}, ${JSON.stringify(table)})`;
}

/** A piece of the notebook's code as the task carries it: an expression the farm compiles as `(${code}\n)`. */
interface Piece {
  code: string;
  cell: string;
  /** Cell position of a position (1-based) in `code` itself. */
  map: PositionMapper;
}

/** The mapper of `code` that contains `source`, found at `at` in a script the session's stack mapper knows. */
function locatedMapper(code: string, source: string, at: ScriptPosition, stacks: PositionSource["stacks"]): PositionMapper | undefined {
  const offset = code.indexOf(source);
  if (offset < 0) return undefined;
  const codeStarts = lineStarts(code);
  const sourceStarts = lineStarts(source);
  return (line, column) => {
    const inSource = (codeStarts[line - 1] ?? Infinity) + column - 1 - offset;
    if (inSource < 0 || inSource > source.length) return undefined;
    const p = lineColumn(sourceStarts, inSource);
    return stacks.position(at.script, at.line + p.line - 1, p.line === 1 ? at.column + p.column - 1 : p.column);
  };
}

/** The file name of a piece: its content and origin, so that the same piece keeps its name. */
function fileOf(piece: { code: string; cell: string }): string {
  return `tspool-code-${createHash("sha1").update(`${piece.cell}\0${piece.code}`).digest("base64url").slice(0, 16)}`;
}

/**
 * `piece` running under the file name `file`: its table's registration on a line in front (ended
 * by `separator`: `,` in an expression, `;` in a script), its file name at its end.
 */
function withTable(file: string, piece: Piece, separator: "," | ";"): string {
  return `${registration(file, tableOf(piece.code.split("\n"), piece.cell, piece.map))}${separator}\n${piece.code}\n//# sourceURL=${file}`;
}

/** The piece as it travels (an expression), under the file name its content and origin give it. */
function shipped(piece: Piece): string {
  return withTable(fileOf(piece), piece, ",");
}

/** An anonymous function or class expression: it takes its name from where it is put. */
const ANONYMOUS = /^(?:async\s*)?(?:\(|[A-Za-z_$][\w$]*\s*=>|function\s*\*?\s*\(|class\s*(?:\{|extends\b))/;

/**
 * `js` as an expression whose function has the name `name` in stack traces, as it has in the
 * kernel: `const helper = (x) => ...` ran as an assignment there, which named the function; on a
 * worker its text alone would be anonymous.
 */
function withName(name: string, js: string): string {
  if (!ANONYMOUS.test(js.trimStart())) return js;
  const key = JSON.stringify(name);
  return `({ ${key}: ${js}\n})[${key}]`;
}

export interface Origins {
  /**
   * Where the task's function is (a notebook class-aware wrapper's, its dependency
   * CLASS_AWARE_FN): null when it is tspool's own code; when undefined it is looked for in the
   * running cell's script, or, for a notebook function passed by name, in the newest that has it.
   */
  fn?: FunctionOrigin | null;
  /**
   * The function's name (Function.prototype.name), which its frames have in the kernel: that of
   * a binding (`pool.map(helper, xs)`), also of one the calling cell is still defining.
   */
  name?: string;
}

/**
 * `task` with its pieces of notebook code shipped with their positions, and the workers'
 * formatter installed first. Dependencies named `__tspool...` are tspool's own code and stay as
 * they are (but for CLASS_AWARE_FN, the user's function a class-aware task wraps).
 */
export function withCellPositions(task: TaskCode, session: PositionSource, origins: Origins = {}): TaskCode {
  const located = (code: string, source: string, cell?: number): Piece | undefined => {
    const at = session.locate(source, cell);
    const map = at && locatedMapper(code, source, at, session.stacks);
    return at && map ? { code, cell: at.script, map } : undefined;
  };
  // The user's function: a piece of its own, from its origin or where it is found.
  const ownFunction = (fn: string): string => {
    if (origins.fn === null) return fn;
    const given = origins.fn;
    // (`(${fn}\n)` puts a parenthesis in front of the first line)
    if (given) return shipped({ code: fn, cell: given.cell, map: (line, column) => given.map(line, line === 1 ? column + 1 : column) });
    const name = origins.name && /^[A-Za-z_$][\w$]*$/.test(origins.name) && !origins.name.startsWith("__tspool") ? origins.name : undefined;
    const code = name ? withName(name, fn) : fn;
    const piece = located(code, fn);
    return piece ? shipped(piece) : code;
  };
  const wrapped = task.deps?.some((d) => "js" in d && d.name === CLASS_AWARE_FN) ?? false;
  const deps = (task.deps ?? []).map((d): Dep => {
    if (!("js" in d)) return d;
    if (d.name === CLASS_AWARE_FN) return { name: d.name, js: ownFunction(d.js) };
    if (d.name.startsWith("__tspool")) return d;
    const b = session.bindings.get(d.name);
    // A declaration travels as its JS from the session (maybe wrapped); a function value as its text.
    const code = withName(d.name, d.js);
    // (an enum's or namespace's code is found by the IIFE its cell's script has)
    const piece = b ? located(code, b.js ? declarationInScript(d.name, b.js) : d.js, b.cell) : undefined;
    return { name: d.name, js: piece ? shipped(piece) : `${code}\n//# sourceURL=${d.name}` };
  });
  const fn = wrapped ? task.fn : ownFunction(task.fn);
  return { fn, deps: [INSTALL, ...deps], filename: tspoolName(task.filename) };
}

/** The script's text as a task evals it: its table's registration on a line in front, its file name at its end. */
export function scriptWithPositions(script: ScriptOrigin): string {
  return withTable(script.file, script, ";");
}

/** The bundle's file name, which the workers' formatter knows for tspool's (it names the code tspool wraps around the user's). */
function tspoolName(filename: string | undefined): string {
  return filename?.startsWith("tspool-") ? filename : `tspool-${filename ?? "task"}`;
}
