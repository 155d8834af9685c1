/**
 * Stack traces on the workers in cell terms. Code shipped from the notebook runs on a worker under
 * a file name of its own (a `//# sourceURL=`), with a table that maps its positions to the cell
 * that defined it (see cell-positions.ts). The workers' Error.prepareStackTrace, installed by the
 * first task that needs it, uses those tables, so that `err.stack` reads as in the kernel —
 * `at helper (cell[3]:2:15)` — whether a task reads it, prints it, or throws the error back to the
 * kernel (where its frames are then shown as they are):
 *   - frames of shipped code get the cell's line and column (`cell[N]:L:C`; the top level of a
 *     `%%pool run` body, which runs through eval, is the cell itself);
 *   - frames of tspool's own code go: the farm's files, the code it generates around the user's
 *     (files named `tspool-...`, functions named `__tspool_...`), and Node's internals after the
 *     last frame of the user's code;
 *   - other frames (libraries, Node's built-ins between the user's frames) stay as Node shows them.
 * Code that sets its own Error.prepareStackTrace gets what it asks for.
 *
 * The functions below run on the workers: they travel as their source text, so they use nothing
 * from outside themselves.
 */

/** Where a shipped piece of code's positions are in its cell. */
export interface PositionTable {
  /** How frames name the cell, e.g. `cell[3]`. */
  cell: string;
  /**
   * Per line of the shipped code (1-based line L at index L - 1): runs of columns as flat triples
   * `[firstColumn, cellLine, cellColumn, ...]`, by first column; a column belongs to the last run
   * starting at or before it; a run with cellLine 0 maps nowhere.
   */
  rows: number[][];
}

/** The global (a symbol) under which a worker keeps the tables, by file name. */
export const POSITIONS_KEY = "tspool.cellPositions";

/**
 * Installs the formatter (once per worker). `distRoot`: the directory of tspool's compiled code,
 * whose frames are never the user's.
 */
export function installWorkerStackTraces(distRoot: string, positionsKey: string): void {
  const key = Symbol.for(positionsKey);
  const g = globalThis as unknown as Record<symbol, Map<string, PositionTable> | undefined>;
  if (g[key]) return;
  const tables = new Map<string, PositionTable>();
  g[key] = tables;
  type Site = NodeJS.CallSite & { getScriptNameOrSourceURL(): string | null };
  type Formatter = (error: Error, sites: Site[]) => unknown;
  const nodeFormatter = typeof Error.prepareStackTrace === "function" ? (Error.prepareStackTrace as unknown as Formatter) : undefined;
  const header = (error: Error): string => {
    try {
      return nodeFormatter ? String(nodeFormatter(error, [])) : Error.prototype.toString.call(error);
    } catch {
      return "<error>";
    }
  };
  const mapped = (table: PositionTable, line: number, column: number): string => {
    const row = table.rows[line - 1];
    let at = -1;
    if (row) for (let i = 0; i < row.length && row[i]! <= column; i += 3) at = i;
    return at >= 0 && row![at + 1]! > 0 ? `${table.cell}:${row![at + 1]}:${row![at + 2]}` : table.cell;
  };
  const isTspool = (file: string) => file.startsWith("tspool-") || file.startsWith(distRoot) || file.startsWith(`file://${distRoot}`);
  const isInternal = (file: string) => file.startsWith("node:") || file === "<anonymous>" || file === "native" || file === "";
  /** A frame's text (null: leave it out) and whether it is the user's own code. */
  const frame = (site: Site): { text: string | null; user: boolean; internal?: boolean } => {
    const file = site.getScriptNameOrSourceURL() ?? "";
    const fn = site.getFunctionName() ?? "";
    if (fn.startsWith("__tspool_")) return { text: null, user: false };
    const text = String(site);
    const table = tables.get(file);
    if (table) {
      const line = site.getLineNumber() ?? 0;
      const column = site.getColumnNumber() ?? 0;
      const where = mapped(table, line, column);
      // the top level of a `%%pool run` body runs through eval: it is the cell itself
      if (fn === "eval" && !site.getTypeName()) return { text: `    at ${where}`, user: true };
      const position = `${file}:${line}:${column}`;
      const i = text.lastIndexOf(position);
      return { text: `    at ${i >= 0 ? text.slice(0, i) + where + text.slice(i + position.length) : where}`, user: true };
    }
    if (isTspool(file)) return { text: null, user: false };
    if (isInternal(file)) return { text: fn === "eval" ? null : `    at ${text}`, user: false, internal: true };
    return { text: `    at ${text}`, user: true };
  };
  const prepare = function prepareWorkerStackTrace(error: Error, sites: Site[]): unknown {
    try {
      const frames = sites.map(frame);
      const lastUser = frames.map((f) => f.user).lastIndexOf(true);
      const lines = frames.filter((f, i) => f.text !== null && (!f.internal || i < lastUser)).map((f) => f.text!);
      return [header(error), ...lines].join("\n");
    } catch {
      return nodeFormatter ? nodeFormatter(error, sites) : [header(error), ...sites.map((s) => `    at ${s}`)].join("\n");
    }
  };
  Error.prepareStackTrace = prepare as unknown as typeof Error.prepareStackTrace;
}
