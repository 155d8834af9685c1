/**
 * Tells whether code running for a request wrote output of its own while a magic was watching it,
 * so that `%%pool map` does not clear the cell's output to re-show its final display (see
 * live-display.ts) when that would erase lines it does not own. Output reaches the cell two ways:
 *   - writes to process.stdout/stderr (console.* included), which the executor sends as `stream`
 *     output of the request;
 *   - raw writes to the executor's fd 1 and 2 (fs.writeSync(1, ...), a child process that
 *     inherits them), which the kernel process reads from the executor's pipes and publishes
 *     under the running request (kernel/kernel.ts, onRawOutput). The executor never sees those
 *     bytes, so the watch notes what can write them: fd writes through node:fs and child
 *     processes started with stdout or stderr inherited.
 *
 * The wrappers go around these functions once, the first time a magic watches, and stay (a watch
 * only adds and removes an entry in a map, so an interrupted cell can leave nothing half-undone).
 * A child process function a cell imported by name before that, and called synchronously, is not
 * seen (asynchronous ones all are, through ChildProcess.prototype.spawn).
 */
import { createRequire, syncBuiltinESMExports } from "node:module";
import { outputContext } from "../kernel/executor/session.js";
import { keepOwnProperties } from "../farm/worker/raw-writes.js";

const watched = new Map<string, { wrote: boolean }>();
let installed = false;

/** The request the running code belongs to has written (or may have written) output. */
function noteWrite(): void {
  if (watched.size === 0) return;
  const parent = outputContext.getStore()?.parent;
  const w = parent === undefined ? undefined : watched.get(parent);
  if (w) w.wrote = true;
}

const require = createRequire(import.meta.url);

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

/** Puts a wrapper around `target[name]` that calls `before(args)` first. */
function wrap(target: Record<string, unknown>, name: string, before: (args: unknown[]) => void): void {
  const original = target[name] as AnyFn;
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    if (watched.size > 0) before(args);
    return original.apply(this, args);
  };
  keepOwnProperties(original, wrapper);
  target[name] = wrapper;
}

/** A write of nothing (which shows nothing). */
function isEmpty(chunk: unknown): boolean {
  if (typeof chunk === "string") return chunk.length === 0;
  return ArrayBuffer.isView(chunk) && chunk.byteLength === 0;
}

/** Whether a child's stdio setting (as given to node:child_process) lets it write to our fd 1 or 2. */
function inheritsOutput(stdio: unknown): boolean {
  if (typeof stdio === "string") return stdio === "inherit";
  if (!Array.isArray(stdio)) return false;
  return [1, 2].some((fd) => {
    const s = stdio[fd];
    return s === "inherit" || s === fd || s === (fd === 1 ? process.stdout : process.stderr);
  });
}

/** The options object among a child_process function's arguments. */
function optionsOf(args: unknown[]): { stdio?: unknown } | undefined {
  return args.find((a) => a !== null && typeof a === "object" && !Array.isArray(a)) as { stdio?: unknown } | undefined;
}

function install(): void {
  if (installed) return;
  installed = true;
  // (an empty write shows nothing: execSync writes the child's stderr even when there is none)
  for (const stream of [process.stdout, process.stderr]) {
    wrap(stream as unknown as Record<string, unknown>, "write", (args) => isEmpty(args[0]) || noteWrite());
  }
  const fs = require("node:fs") as Record<string, unknown>;
  for (const name of ["writeSync", "write"]) wrap(fs, name, (args) => (args[0] === 1 || args[0] === 2) && !isEmpty(args[1]) && noteWrite());
  const cp = require("node:child_process") as Record<string, unknown> & { ChildProcess: { prototype: Record<string, unknown> } };
  // Every asynchronous child (spawn, exec, execFile, fork) starts here, with its stdio as given
  // (fork's default included). By default the synchronous ones pipe everything (exec*Sync write
  // the child's stderr through process.stderr afterwards, which the stream wrapper sees).
  wrap(cp.ChildProcess.prototype, "spawn", (args) => inheritsOutput((args[0] as { stdio?: unknown })?.stdio) && noteWrite());
  for (const name of ["spawnSync", "execSync", "execFileSync"]) wrap(cp, name, (args) => inheritsOutput(optionsOf(args)?.stdio) && noteWrite());
  // `import { writeSync } from "node:fs"` in later cells gets the wrappers too
  syncBuiltinESMExports();
}

export interface CellOutputWatch {
  /** Whether the request's code wrote anything (or started something that may have) since the watch began. */
  readonly wrote: boolean;
  stop(): void;
}

/** Starts noting writes made under request `parent` (its msg_id). */
export function watchCellOutput(parent: string): CellOutputWatch {
  install();
  const entry = { wrote: false };
  watched.set(parent, entry);
  return {
    get wrote() {
      return entry.wrote;
    },
    stop() {
      if (watched.get(parent) === entry) watched.delete(parent);
    },
  };
}
