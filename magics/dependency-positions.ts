/**
 * Maps a worker's stack frame in a function or class of an earlier cell, shipped along with a task
 * as a dependency, back to that cell: `check (tspool-map-7:2:11)` becomes `check (cell[2]:3:11)`.
 *
 * The worker runs such a dependency as `(${js}\n)`, where `js` is the declaration's code as it
 * ran in its own cell's script; the session notes where that code starts in the script
 * (Binding.jsAt), so a position in the dependency is a position in the script, which the
 * session's stack mapper (the one ordinary cell errors go through) maps to the cell.
 */
import type { MagicSession } from "./session-api.js";
import type { CodeOrigin } from "./task-errors.js";

/** `cell[N]:line:column` of a position (1-based) in dependency `fnName` (a function, or `Class.method`), if known. */
export type DependencyPosition = (fnName: string, line: number, column: number) => string | undefined;

const MAPPED = /\(([^()]+:\d+:\d+)\)$/;

export function dependencyPositions(session: MagicSession): DependencyPosition {
  return (fnName, line, column) => {
    const name = fnName.split(".")[0]!;
    const at = session.bindings.get(name)?.jsAt;
    if (!at || !session.mapStack) return undefined;
    // Line 1 of the dependency has the "(" in front of it.
    const scriptLine = at.line + line - 1;
    const scriptColumn = line === 1 ? at.column + column - 2 : column;
    const frame = `    at ${name} (${at.script}:${scriptLine}:${scriptColumn})`;
    const mapped = session.mapStack(`Error\n${frame}`).split("\n")[1];
    if (mapped === undefined || mapped === frame) return undefined; // the script is not one the session knows
    return MAPPED.exec(mapped)?.[1];
  };
}

/**
 * The files a worker may have installed a dependency from: the task file of whichever cell
 * shipped it first (a worker keeps an unchanged dependency, and its file name, for later tasks).
 */
const TASK_FILES = /tspool-(?:map|starmap|run|task)-[\w.-]+/;

/**
 * The origin of frames in dependencies installed by other tasks than the failing one; it goes
 * after the failing task's own origins.
 */
export function otherTasksOrigin(session: MagicSession, cellName: string): CodeOrigin {
  return { filename: TASK_FILES, cellName, lineOffset: 0, dependenciesOnly: true, ...dependencySources(session) };
}

/** How a task's error names the dependencies it shipped: their exact positions when known, else their cell. */
export function dependencySources(session: MagicSession): Pick<CodeOrigin, "elsewhere" | "definedAt"> {
  return {
    elsewhere: (name) => {
      const b = session.bindings.get(name);
      return b ? `cell[${b.cell}]` : undefined;
    },
    definedAt: dependencyPositions(session),
  };
}
