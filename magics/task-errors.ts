/**
 * Turns what a pool call fails with into the cell's error: a task that threw names its worker,
 * its item and the original error, with the worker's stack (already in cell terms: the workers
 * map the frames of shipped code to the cells, see worker-stack-traces.ts); a worker that died
 * names the worker, the item and the exit code or signal.
 *
 * A `%%pool` magic answers with that error itself. A cell that awaits the `pool` object gets the
 * pool's error thrown at it, and the executor describes what a cell throws: the notebook pool
 * marks its errors with their cell description (markForCell), which the executor then shows.
 */
import type { ExecuteError } from "../kernel/executor/protocol.js";
import { CELL_ERROR } from "../kernel/executor/runtime-error.js";

interface RemoteLike {
  name: string;
  message: string;
  remoteName?: string;
  remoteMessage?: string;
  remoteStack?: string;
  workerId?: number;
  pid?: number;
  index?: number;
}

/** Frames that are never the user's, should a worker's stack come unmapped (its formatter replaced). */
const INTERNAL_FRAME = /\(?tspool-[\w.-]+:\d+:\d+\)?$|\/farm\/(?:[\w-]+\/)*[\w-]+\.js|node:internal|\(node:|^\s*at (new )?Promise \(|^\s*at eval \(<anonymous>\)$|^\s*at (async )?__tspool_/;

/** The frame lines of a worker's stack, without tspool's own. */
export function workerFrames(stack: string): string[] {
  return stack.split("\n").filter((l) => /^\s+at /.test(l) && !INTERNAL_FRAME.test(l)).map((l) => l.replace(/^\s+/, "    "));
}

function isRemote(e: unknown): e is RemoteLike {
  return typeof e === "object" && e !== null && (e as Error).name === "RemoteError" && typeof (e as RemoteLike).remoteName === "string";
}

function where(e: { workerId?: number; pid?: number; index?: number }): string {
  const parts: string[] = [];
  if (e.workerId !== undefined) parts.push(`worker ${e.workerId}`);
  if (e.index !== undefined) parts.push(`item ${e.index}`);
  return parts.join(", ");
}

export function poolErrorToExecuteError(err: unknown): ExecuteError {
  if (isRemote(err)) {
    const loc = where(err);
    const evalue = `${err.remoteMessage}${loc ? ` (${loc})` : ""}`;
    const frames = err.remoteStack ? workerFrames(err.remoteStack) : [];
    return {
      status: "error",
      ename: err.remoteName!,
      evalue,
      traceback: [`${err.remoteName}: ${err.remoteMessage}`, `  raised in ${loc || "a worker"}${err.pid !== undefined ? ` (pid ${err.pid})` : ""}`, ...frames],
    };
  }
  const e = err as Error & { workerId?: number; index?: number; workerReplaced?: boolean };
  const name = e?.name || "Error";
  const message = e?.message ?? String(err);
  if (name === "InterruptedError") {
    // The same error an interrupted ordinary cell gets, saying what happened to the pool.
    const replaced = e.workerReplaced ? `; worker ${e.workerId} did not stop in time and was replaced` : "";
    const evalue = `the cell was interrupted (KeyboardInterrupt); the pool's running tasks were stopped${replaced}`;
    return { status: "error", ename: "Interrupted", evalue, traceback: [`Interrupted: ${evalue}`] };
  }
  if (name === "CaptureError" || name === "UsageError") {
    return { status: "error", ename: name, evalue: message, traceback: [`${name}: ${message}`] };
  }
  const traceback = [`${name}: ${message}`];
  if (e?.stack && name !== "WorkerCrashedError" && name !== "TaskTimeoutError") traceback.push(...workerFrames(e.stack));
  return { status: "error", ename: name, evalue: message, traceback };
}

/**
 * Marks an error of a task (a RemoteError: it threw on a worker) with its description as a cell's
 * error, which the executor shows should a cell not catch it: the original error's name and
 * message, with the worker and the item, and the worker's frames. Other errors stay as they are.
 */
export function markForCell(err: unknown): unknown {
  if (isRemote(err) && !Object.hasOwn(err, CELL_ERROR)) {
    Object.defineProperty(err, CELL_ERROR, { value: poolErrorToExecuteError(err), enumerable: false, configurable: true });
  }
  return err;
}
