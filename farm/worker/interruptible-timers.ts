/**
 * The worker's timers, made safe to interrupt, and the intervals of a stopped task cleared.
 *
 * An interrupt stops synchronous code with V8's terminate-execution; when that hits JavaScript
 * running directly in a setTimeout, setInterval or setImmediate callback, Node's async-id stack is
 * left unbalanced and Node aborts the whole process ("async hook stack has become corrupted"),
 * where a terminated microtask is survived. So a due timer hands its callback to a microtask,
 * which runs at once, before the next timer: the order of callbacks, `this` and the arguments stay
 * as they were.
 *
 * A task that is stopped (interrupted, timed out, cancelled) loses the intervals it set: they would
 * go on running, and spinning the worker, for ever. Its one-shot timers still fire, so that code
 * awaiting a delay can see the task's abort signal and clean up. A task that ends normally keeps
 * its intervals (a `run` task may leave one on purpose).
 */
import { keepOwnProperties } from "./raw-writes.js";

const unboundQueueMicrotask = globalThis.queueMicrotask;
const unboundClearInterval = globalThis.clearInterval;
/** Node's own setImmediate, for the worker's own scheduling: never a task's. */
export const internalSetImmediate: typeof setImmediate = globalThis.setImmediate;

export class TaskTimers {
  /** job id -> the intervals it set */
  private readonly intervals = new Map<number, Set<NodeJS.Timeout>>();

  /** Wraps the global timer functions; `currentJob` says which task's code is running. */
  install(currentJob: () => number | null): void {
    for (const name of ["setTimeout", "setInterval", "setImmediate"] as const) {
      const original = globalThis[name] as (callback: unknown, ...rest: unknown[]) => unknown;
      const timers = this;
      const wrapped = function (this: unknown, callback: unknown, ...rest: unknown[]) {
        if (typeof callback !== "function") return original.call(this, callback, ...rest); // Node's own error
        const run = callback as (...args: unknown[]) => unknown;
        const handle = original.call(this, function (this: unknown, ...args: unknown[]) {
          unboundQueueMicrotask(() => run.apply(this, args));
        }, ...rest);
        const job = name === "setInterval" ? currentJob() : null;
        if (job !== null) {
          let mine = timers.intervals.get(job);
          if (!mine) timers.intervals.set(job, (mine = new Set()));
          mine.add(handle as NodeJS.Timeout);
        }
        return handle;
      };
      keepOwnProperties(original, wrapped); // what hangs off the originals (util.promisify.custom, ...)
      Object.defineProperty(wrapped, "name", { value: name, configurable: true });
      Object.defineProperty(globalThis, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
    }
  }

  /** A task was answered: a stopped one's intervals are cleared, a finished one's are left to run. */
  jobEnded(job: number, stopped: boolean): void {
    const mine = this.intervals.get(job);
    if (!mine) return;
    this.intervals.delete(job);
    if (stopped) for (const handle of mine) unboundClearInterval(handle);
  }
}
