/**
 * What a Pool and its calls accept: the option types, their checks, and the conversions of a
 * call's items and abort signal that every map-like call shares.
 */
import { availableParallelism } from "node:os";
import type { TaskFn } from "./task-code.js";
import type { TransportFactory } from "./transport.js";

export interface PoolOptions {
  /** Number of workers (default: the machine's available parallelism). */
  workers?: number;
  /**
   * Worker threads instead of child processes (shared memory; less isolation). A thread blocked
   * in a native call (a synchronous read of a pipe, `execSync`, ...) cannot be stopped or killed
   * by Node until that call returns: an interrupt or time-out then gives up on it after
   * `interruptGrace` (the task fails with `workerReplaced: true` and the id gets a new thread),
   * but the old thread lives on until the call returns, and until then this process cannot exit
   * (Node waits for every thread at exit, even after `process.exit()`). Use process workers (the
   * default) for tasks that may block in native code: those are killed outright.
   */
  threads?: boolean;
  /** Runs once in every worker when it starts (also in replacements), before any task. */
  initializer?: TaskFn;
  initargs?: unknown[];
  /**
   * Replace a worker after it ran this many tasks (a whole number). A task is one job: an `apply`,
   * one worker's part of a `run`, a `push`, or one map chunk, however many items it holds (as
   * Python's `maxtasksperchild` counts a chunk as one task); the initializer does not count, nor
   * do the parts of a crashed chunk that are run again (see `retries`). Maps then send a worker no
   * more chunks than it may still run, so the limit holds during maps too.
   */
  maxTasksPerWorker?: number;
  /**
   * Stop a job running longer than this (ms); it rejects with TaskTimeoutError. The clock starts
   * when the job starts running in its worker (not while it waits behind another job there).
   * map then sends items one by one unless chunksize is given.
   */
  taskTimeout?: number;
  /**
   * How often a task whose worker died (process.exit, a signal, out of memory) is tried again on
   * another worker (default 0: never; the call fails with WorkerCrashedError).
   *
   * For a map chunk of several items, the worker tells the pool which item it runs, and the error
   * names that item (`index`). It is exact when the worker ended through its own code
   * (process.exit, process.kill of itself) or is a thread; when a process worker is killed from
   * outside while running quick items, it may have gone past the item it was last seen on
   * (it is looked at 100 ms into a chunk, then less and less often, at least every second), and
   * the error says "item I or a later one" (`indexExact` false).
   *
   * With `retries` > 0 the chunk is not run again whole: the items before the culprit had
   * finished (their results died with the worker) and are run again as one chunk, which is not a
   * retry and cannot use one up; the culprit is retried alone (with the items after it when it is
   * only known as "I or a later one"), and each of its crashes counts; the items after it, which
   * never ran, go back as a chunk of their own. So an item runs at most retries + 1 times unless
   * another item killed its worker. None of these parts counts towards maxTasksPerWorker.
   */
  retries?: number;
  /** Extra environment variables for the workers; a variable set to undefined is removed. */
  env?: Record<string, string | undefined>;
  /** Node options for the workers: an array of strings (default none, e.g. ["--max-old-space-size=512"]). */
  execArgv?: string[];
  /**
   * How long an interrupted (or timed-out) worker gets to stop before it is killed and replaced
   * (ms, default 1000). See `threads` for the one case Node cannot kill.
   */
  interruptGrace?: number;
  /**
   * Where the workers' console output goes (it always comes as "output" events too):
   * - "auto" (default): written to this process's stdout/stderr while nobody listens for
   *   "output" events, so prints never vanish; once a listener is attached, only the events.
   * - "inherit": always written to this process's stdout/stderr, listeners or not.
   * - "events": only the events (dropped when nobody listens).
   */
  output?: PoolOutput;
  /** Memory limits for thread workers. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
  /** Custom transport (e.g. workers on other hosts). */
  transport?: TransportFactory;
}

export type PoolOutput = "auto" | "inherit" | "events";
const OUTPUT_MODES: readonly PoolOutput[] = ["auto", "inherit", "events"];

export interface MapOptions {
  /** Items per message; automatic when omitted. */
  chunksize?: number;
  signal?: AbortSignal;
  /** For this call: times a task whose worker died is tried again (default: the pool's `retries`; see there for map chunks). */
  retries?: number;
  /** For this call: fail a task running longer than this many ms (default: the pool's `taskTimeout`). */
  timeout?: number;
  /** Any value; it comes back as `tag` on this call's task and output events, to tell concurrent calls apart. */
  tag?: unknown;
}

export interface ApplyOptions {
  signal?: AbortSignal;
  timeout?: number;
  /** Any value; it comes back as `tag` on this call's task and output events, to tell concurrent calls apart. */
  tag?: unknown;
}

export interface RunOptions {
  /** Worker ids to run on (default: every worker). */
  targets?: number[] | number;
  args?: unknown[];
  signal?: AbortSignal;
  /** Any value; it comes back as `tag` on this call's task and output events, to tell concurrent calls apart. */
  tag?: unknown;
}

export type Items<T> = readonly T[] | Iterable<T> | ArrayLike<T>;

export function toArray<T>(items: Items<T>, what: string): readonly T[] | ArrayLike<number> {
  if (items instanceof DataView) throw new TypeError(`${what}: items must be an array, a typed array or an iterable; a DataView is none of these (wrap its buffer in a typed array)`);
  if (Array.isArray(items) || ArrayBuffer.isView(items)) return items as readonly T[];
  if (items !== null && typeof items === "object" && Symbol.iterator in items) return Array.from(items as Iterable<T>);
  if (items !== null && typeof items === "object" && typeof (items as ArrayLike<T>).length === "number") return Array.from(items as ArrayLike<T>);
  throw new TypeError(`${what}: items must be an array, a typed array or an iterable; got ${items === null ? "null" : typeof items}`);
}

export function abortError(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(r === undefined ? "the operation was aborted" : String(r));
  e.name = "AbortError";
  return e;
}

/** A value as an error message should show it: a string in quotes, marked as one. */
export function shown(v: unknown): string {
  if (typeof v === "string") return `${JSON.stringify(v)} (a string)`;
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object" && v !== null) return "an object";
  if (typeof v === "function") return "a function";
  return String(v);
}

/** Checks the options of `new Pool(options)`; returns the number of workers. */
export function checkPoolOptions(opts: PoolOptions): number {
  if (typeof opts !== "object" || opts === null) throw new TypeError("new Pool(options): options must be an object");
  const n = opts.workers ?? availableParallelism();
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Pool: workers must be a positive integer, got ${shown(opts.workers)}`);
  const mt = opts.maxTasksPerWorker;
  if (mt !== undefined && !(Number.isInteger(mt) && mt > 0)) {
    throw new RangeError(`Pool: maxTasksPerWorker must be a whole number of tasks >= 1, got ${shown(mt)}`);
  }
  for (const k of ["taskTimeout", "interruptGrace"] as const) {
    const v = opts[k];
    if (v !== undefined && !(typeof v === "number" && v > 0 && Number.isFinite(v))) throw new RangeError(`Pool: ${k} must be a positive number of ms, got ${shown(v)}`);
  }
  if (opts.retries !== undefined && !(Number.isInteger(opts.retries) && opts.retries >= 0)) {
    throw new RangeError(`Pool: retries must be a whole number >= 0, got ${shown(opts.retries)}`);
  }
  const argv = opts.execArgv;
  if (argv !== undefined && !(Array.isArray(argv) && argv.every((a) => typeof a === "string"))) {
    throw new TypeError(`Pool: execArgv must be an array of strings, e.g. ["--max-old-space-size=512"], got ${shown(argv)}` +
      (typeof argv === "string" ? `; write [${JSON.stringify(argv)}]` : ""));
  }
  const env = opts.env;
  if (env !== undefined && (typeof env !== "object" || env === null || Array.isArray(env))) {
    throw new TypeError(`Pool: env must be an object of { NAME: "value" } (undefined removes a variable), got ${shown(env)}`);
  }
  if (opts.output !== undefined && !OUTPUT_MODES.includes(opts.output)) {
    throw new TypeError(`Pool: output must be "auto", "inherit" or "events", got ${shown(opts.output)}`);
  }
  return n;
}
