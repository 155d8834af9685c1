/**
 * Turns what a pool call fails with into the cell's error: a task that threw names its worker,
 * its item and the original error, with the worker's stack frames mapped to the cell's lines; a
 * worker that died names the worker, the item and the exit code or signal.
 */
import type { ExecuteError } from "../kernel/executor/protocol.js";
import type { PositionMapper } from "./source-position.js";
import type { DependencyPosition } from "./dependency-positions.js";

/** Where the shipped code came from, to rewrite `filename:L:C` frames to `cell[N]:L':C`. */
export interface CodeOrigin {
  /** As given to the farm (TaskCode.filename) or as the script's sourceURL; a pattern for several files. */
  filename: string | RegExp;
  cellName: string; // e.g. "cell[7]"
  /** Cell line of the code's first line, minus one (code line L is cell line L + lineOffset), when `position` cannot tell. */
  lineOffset: number;
  /** Exact mapping of the code's positions to cell positions (through a source map). */
  position?: PositionMapper;
  /**
   * Function names whose frames are this code (besides anonymous ones). Frames of other named
   * functions in the same file are dependencies shipped along; `elsewhere` says where they
   * come from (e.g. "cell[3]").
   */
  names?: string[];
  elsewhere?: (fnName: string) => string | undefined;
  /** The exact cell position of a frame in such a dependency, when known (see dependency-positions.ts). */
  definedAt?: DependencyPosition;
  /**
   * The file's own code is only a wrapper the user never wrote (a `%%pool run` task): its frames
   * are left out, and only those of the named dependencies it carries are shown.
   */
  dependenciesOnly?: boolean;
}

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

const INTERNAL_FRAME = /tspool-run-\d+-task:|\/farm\/(?:[\w-]+\/)*[\w-]+\.js|node:internal|\(node:|^\s*at (new )?Promise \(|<anonymous>\)$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Keeps the frames of the user's code, with the shipped code's positions mapped to cell lines. */
export function mapWorkerStack(stack: string, origins: CodeOrigin[]): string[] {
  const lines = stack.split("\n");
  const frames = lines.filter((l) => /^\s+at /.test(l));
  const out: string[] = [];
  for (let frame of frames) {
    let mapped = false;
    const fnName = /^\s*at (?:async )?(?:new )?([^\s(]+) \(/.exec(frame)?.[1];
    if (fnName?.startsWith("__tspool_instances_")) continue; // the wrapper that keeps class instances
    for (const o of origins) {
      const re = new RegExp(`(?:${typeof o.filename === "string" ? escapeRegExp(o.filename) : o.filename.source}):(\\d+):(\\d+)`);
      const m = re.exec(frame);
      if (!m) continue;
      mapped = true;
      const own = fnName === undefined || fnName === "eval" || o.names?.includes(fnName);
      if (own && o.dependenciesOnly) {
        frame = "";
      } else if (own) {
        const p = o.position?.(Number(m[1]), Number(m[2]));
        const where = p ? `${o.cellName}:${p.line}:${p.column}` : `${o.cellName}:${Number(m[1]) + o.lineOffset}:${m[2]}`;
        // the top level of a `%%pool run` body runs through eval: show it as the cell itself
        frame = fnName === "eval" ? `    at ${where}` : frame.replace(re, where);
      } else {
        const name = /^\s*at (?:async )?(new )?/.exec(frame)![0].trimStart() + fnName;
        const exact = o.definedAt?.(fnName, Number(m[1]), Number(m[2]));
        // `Class.method` frames: the class says where the method was defined
        const from = exact ? undefined : o.elsewhere?.(fnName) ?? (fnName.includes(".") ? o.elsewhere?.(fnName.split(".")[0]!) : undefined);
        frame = `    ${name}${exact ? ` (${exact})` : from ? ` (defined in ${from})` : ""}`;
      }
      break;
    }
    if (frame === "" || (!mapped && INTERNAL_FRAME.test(frame))) continue;
    out.push(frame.replace(/^\s+/, "    "));
  }
  return out;
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

export function poolErrorToExecuteError(err: unknown, origins: CodeOrigin[] = []): ExecuteError {
  if (isRemote(err)) {
    const loc = where(err);
    const evalue = `${err.remoteMessage}${loc ? ` (${loc})` : ""}`;
    const frames = err.remoteStack ? mapWorkerStack(err.remoteStack, origins) : [];
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
  if (e?.stack && name !== "WorkerCrashedError" && name !== "InterruptedError" && name !== "TaskTimeoutError") {
    const frames = e.stack.split("\n").filter((l) => /^\s+at /.test(l) && !INTERNAL_FRAME.test(l));
    traceback.push(...frames);
  }
  return { status: "error", ename: name, evalue: message, traceback };
}
