/**
 * Installs what every cell finds in its global scope: the display sink behind `display`,
 * `clearOutput` and `input` (sending display/clear_output/input_request events for the request
 * the calling code belongs to), those functions themselves, `require`, `__filename` and
 * `__dirname` (as for a file in the notebook's directory) and the lazily created notebook
 * `pool`. All are plain writable globals, so a cell may declare its own `display` or `pool`.
 */
import { randomUUID } from "node:crypto";
import { dirname } from "node:path";
import type { ExecutorToHost } from "./protocol.js";
import { outputContext } from "./session.js";
import { bindToCurrentOutput } from "./output-context.js";
import { pendingInputs } from "./input-requests.js";
import { installSink } from "../display/sink.js";
import { clearOutput, display, input } from "../display/index.js";

export interface CellGlobalsOptions {
  send(e: ExecutorToHost): void;
  require: NodeRequire;
  /** The file cells count as for `require`, `__filename` and `__dirname` (in the notebook's directory). */
  filename: string;
  notebookPool(): unknown;
}

const unboundQueueMicrotask = globalThis.queueMicrotask;

/** Callbacks of timers and queued tasks write below the cell that set them (see output-context.ts). */
function bindTimersToCells(): void {
  const nextTick = process.nextTick;
  process.nextTick = function (callback: (...a: unknown[]) => void, ...args: unknown[]) {
    return nextTick(typeof callback === "function" ? bindToCurrentOutput(callback) : callback, ...args);
  } as typeof process.nextTick;
  for (const name of ["setTimeout", "setInterval", "setImmediate", "queueMicrotask"] as const) {
    const original = globalThis[name] as (cb: unknown, ...rest: unknown[]) => unknown;
    const viaMicrotask = name !== "queueMicrotask";
    const bound = function (this: unknown, callback: unknown, ...rest: unknown[]) {
      let cb = typeof callback === "function" ? bindToCurrentOutput(callback as (...a: unknown[]) => unknown) : callback;
      if (viaMicrotask && typeof cb === "function") {
        // The executor does not survive an interrupt terminating JavaScript that runs directly in
        // a timer or immediate callback (Node then ends the process), while it does in a
        // microtask, where cells run too. So a due timer runs its callback as a microtask, at once.
        const run = cb as (...a: unknown[]) => unknown;
        cb = function (this: unknown, ...args: unknown[]) {
          unboundQueueMicrotask(() => run.apply(this, args));
        };
      }
      return original.call(this, cb, ...rest);
    };
    // Keep what hangs off the originals (e.g. util.promisify.custom), and their names.
    for (const key of Reflect.ownKeys(original)) {
      if (key === "length" || key === "prototype") continue;
      const d = Object.getOwnPropertyDescriptor(original, key);
      if (d) Object.defineProperty(bound, key, d);
    }
    defineGlobal(name, bound);
  }
}

function defineGlobal(name: string, value: unknown): void {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

export function installCellGlobals(opts: CellGlobalsOptions): void {
  const { send } = opts;
  installSink({
    display(data, metadata, o) {
      const ctx = outputContext.getStore();
      if (!ctx) throw new Error("display() was called outside of any cell (e.g. from a callback registered by the executor itself)");
      if (ctx.silent) return;
      send({ type: "display", parent: ctx.parent, update: o.update ?? false, data, metadata, transient: o.id ? { display_id: o.id } : {} });
    },
    clearOutput(wait) {
      const ctx = outputContext.getStore();
      if (!ctx) throw new Error("clearOutput() was called outside of any cell");
      if (!ctx.silent) send({ type: "clear_output", parent: ctx.parent, wait });
    },
    input(prompt, password) {
      const ctx = outputContext.getStore();
      if (!ctx?.allowStdin)
        return Promise.reject(
          new Error(
            "input() cannot ask for text here: this execute request was sent with allow_stdin=false " +
              "(the frontend does not accept input). Run the cell from a notebook or console that supports input.",
          ),
        );
      const id = randomUUID();
      return new Promise<string>((resolve, reject) => {
        pendingInputs.set(id, {
          resolve: (v) => {
            pendingInputs.delete(id);
            resolve(v);
          },
          reject,
        });
        send({ type: "input_request", parent: ctx.parent, id, prompt, password });
      });
    },
  });
  bindTimersToCells();
  defineGlobal("display", display);
  defineGlobal("clearOutput", clearOutput);
  defineGlobal("input", input);
  defineGlobal("require", opts.require);
  // As in a CommonJS module of the notebook's directory (Node's typings declare both globally).
  defineGlobal("__filename", opts.filename);
  defineGlobal("__dirname", dirname(opts.filename));
  let pool: unknown;
  Object.defineProperty(globalThis, "pool", {
    configurable: true,
    enumerable: false,
    get() {
      pool ??= opts.notebookPool();
      return pool;
    },
    set(value) {
      // A cell declared its own `pool`: it becomes an ordinary global.
      defineGlobal("pool", value);
    },
  });
}
