/** The `error` reply for an exception thrown by cell code: name, message and the cell-mapped stack. */
import { inspect } from "node:util";
import type { ExecuteError } from "./protocol.js";
import type { StackMapper } from "./stack.js";

/**
 * An error may carry its own description as a cell's error under this key (the notebook pool's
 * errors do: a task's error is shown as the worker's original error, in cell terms).
 */
export const CELL_ERROR = Symbol.for("tspool.cellError");

export function runtimeError(err: unknown, mapper: StackMapper): ExecuteError {
  const own = err !== null && typeof err === "object" ? (err as { [CELL_ERROR]?: ExecuteError })[CELL_ERROR] : undefined;
  if (own) return own;
  if (err instanceof Error || (err && typeof err === "object" && "stack" in err && "message" in err)) {
    const e = err as Error;
    const ename = e.name || e.constructor?.name || "Error";
    const evalue = String(e.message ?? "");
    const frames = mapper.framesOf(e);
    return { status: "error", ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames, ...causes(e, mapper)] };
  }
  const evalue = inspect(err, { colors: false, depth: 2 });
  return { status: "error", ename: "Uncaught", evalue, traceback: [`Uncaught ${evalue}`] };
}

export function interruptedError(): ExecuteError {
  return { status: "error", ename: "Interrupted", evalue: "the cell was interrupted (KeyboardInterrupt); the session's state is kept", traceback: ["Interrupted: the cell was interrupted (KeyboardInterrupt)"] };
}

/** `Caused by:` sections for an error's `cause` chain (a few levels, each with mapped frames). */
function causes(err: Error, mapper: StackMapper): string[] {
  const out: string[] = [];
  let cause: unknown = err.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    if (cause instanceof Error) {
      out.push(`Caused by: ${cause.name}: ${cause.message}`, ...mapper.framesOf(cause));
      cause = cause.cause;
    } else {
      out.push(`Caused by: ${inspect(cause, { colors: false, depth: 2 })}`);
      break;
    }
  }
  return out;
}
