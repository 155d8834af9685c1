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
  /** Worker threads instead of child processes (shared memory; less isolation). */
  threads?: boolean;
  /** Runs once in every worker when it starts (also in replacements), before any task. */
  initializer?: TaskFn;
  initargs?: unknown[];
  /** Replace a worker after it ran this many jobs (a map chunk is one job). */
  maxTasksPerWorker?: number;
  /** Stop a job running longer than this (ms); it rejects with TaskTimeoutError. map then sends items one by one unless chunksize is given. */
  taskTimeout?: number;
  /** How often a job whose worker died is tried again on another worker (default 0). */
  retries?: number;
  /** Extra environment variables for the workers. */
  env?: Record<string, string | undefined>;
  /** Node options for the workers (default none, e.g. ["--max-old-space-size=512"]). */
  execArgv?: string[];
  /** How long an interrupted worker gets to stop before it is killed and replaced (ms, default 1000). */
  interruptGrace?: number;
  /** Memory limits for thread workers. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
  /** Custom transport (e.g. workers on other hosts). */
  transport?: TransportFactory;
}

export interface MapOptions {
  /** Items per message; automatic when omitted. */
  chunksize?: number;
  signal?: AbortSignal;
  /** For this call: times a task whose worker died is tried again (default: the pool's `retries`). */
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

/** Checks the options of `new Pool(options)`; returns the number of workers. */
export function checkPoolOptions(opts: PoolOptions): number {
  if (typeof opts !== "object" || opts === null) throw new TypeError("new Pool(options): options must be an object");
  const n = opts.workers ?? availableParallelism();
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Pool: workers must be a positive integer, got ${String(opts.workers)}`);
  for (const k of ["maxTasksPerWorker", "taskTimeout", "interruptGrace"] as const) {
    const v = opts[k];
    if (v !== undefined && !(typeof v === "number" && v > 0)) throw new RangeError(`Pool: ${k} must be a positive number of ${k === "maxTasksPerWorker" ? "jobs" : "ms"}, got ${String(v)}`);
  }
  if (opts.retries !== undefined && !(Number.isInteger(opts.retries) && opts.retries >= 0)) {
    throw new RangeError(`Pool: retries must be a whole number >= 0, got ${String(opts.retries)}`);
  }
  return n;
}
