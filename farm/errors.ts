/**
 * Errors a Pool hands to its caller. Every one says which worker and which item it concerns, so a
 * failure inside a farm of workers can be traced back to the input that caused it.
 */

/** A description of an error thrown inside a worker, as it travels back to the parent. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** The error's `cause`: another SerializedError, or a structured-clone-able value. */
  cause?: SerializedError | { value: unknown };
  /** The error's `errors` (an AggregateError's), each described like `cause`. */
  errors?: (SerializedError | { value: unknown })[];
  /** Other own properties that could be cloned (e.g. `code`, `errno`). */
  props?: Record<string, unknown>;
}

function revive(c: SerializedError | { value: unknown }): unknown {
  return "value" in c ? c.value : reviveError(c);
}

function where(workerId: number | undefined, index: number | undefined): string {
  const parts: string[] = [];
  if (workerId !== undefined) parts.push(`worker ${workerId}`);
  if (index !== undefined) parts.push(`item ${index}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** Rebuilds an Error-like object from its description (used for `cause`). */
export function reviveError(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack !== undefined) err.stack = e.stack;
  if (e.props) Object.assign(err, e.props);
  if (e.cause !== undefined) (err as { cause?: unknown }).cause = revive(e.cause);
  if (e.errors !== undefined) (err as { errors?: unknown[] }).errors = e.errors.map(revive);
  return err;
}

/** A task threw (or its promise rejected) inside a worker. */
export class RemoteError extends Error {
  override name = "RemoteError";
  /** Name of the original error (e.g. "TypeError"). */
  readonly remoteName: string;
  /** The original message, without the location suffix. */
  readonly remoteMessage: string;
  /** The stack as it was in the worker. */
  readonly remoteStack: string | undefined;
  readonly workerId: number;
  readonly pid: number | undefined;
  /** Index of the failing item (map/starmap/imap) or undefined for apply/run. */
  readonly index: number | undefined;
  /** Extra properties the original error carried (code, errno, ...). */
  readonly props: Record<string, unknown>;
  /** The original's `errors` (it was an AggregateError), revived like `cause`; absent otherwise. */
  declare readonly errors?: unknown[];

  constructor(e: SerializedError, info: { workerId: number; pid?: number; index?: number }) {
    super(`${e.name}: ${e.message}${where(info.workerId, info.index)}`, e.cause !== undefined
      ? { cause: "value" in e.cause ? e.cause.value : reviveError(e.cause) }
      : undefined);
    this.remoteName = e.name;
    this.remoteMessage = e.message;
    this.remoteStack = e.stack;
    this.workerId = info.workerId;
    this.pid = info.pid;
    this.index = info.index;
    this.props = e.props ?? {};
    if (e.errors !== undefined) (this as { errors?: unknown[] }).errors = e.errors.map(revive);
    const local = this.stack?.split("\n").slice(1).join("\n") ?? "";
    this.stack = `${this.name}: ${this.message}\n  --- in the worker ---\n${e.stack ?? `${e.name}: ${e.message}`}\n  --- in the caller ---\n${local}`;
  }
}

/** The worker running a task died (exit, signal, out of memory) and the retries are used up. */
export class WorkerCrashedError extends Error {
  override name = "WorkerCrashedError";
  readonly workerId: number;
  readonly pid: number | undefined;
  readonly threadId: number | undefined;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /**
   * The map item the worker was running when it died (undefined for apply/run). The worker
   * publishes the item it runs: it is exact when the worker ended through its own code
   * (process.exit, process.kill of itself) or was a thread; when a process worker was killed
   * from outside (a signal, out of memory) it is the item it was last seen on (looked at 100 ms
   * into the chunk, then less and less often, at least every second; `indexExact` false: this
   * item or a later one of `range`).
   */
  readonly index: number | undefined;
  /** False when the worker may have gone past `index` before it died (the item is that one or a later one in `range`). */
  readonly indexExact: boolean;
  /** Item range [from, to) of the job that was running: the chunk (for a map), or the retried part of it. */
  readonly range: [number, number] | undefined;
  /** How many times the job was tried. */
  readonly attempts: number;
  /** The last lines the worker wrote to stderr, often the reason (e.g. an out-of-memory report). */
  readonly stderrTail: string;

  constructor(info: {
    workerId: number; pid?: number; threadId?: number; exitCode: number | null; signal: string | null;
    range?: [number, number]; index?: number; indexExact?: boolean; attempts: number; stderrTail?: string;
  }) {
    const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${info.exitCode}`;
    const range = info.range;
    const index = info.index ?? range?.[0];
    // "this item or a later one" says nothing more when it is the range's last
    const exact = range === undefined || info.indexExact !== false || index === range[1] - 1;
    let item = "";
    if (range !== undefined && index !== undefined) {
      item = exact ? `, item ${index}` : `, item ${index} or a later one up to ${range[1] - 1}`;
    }
    const tries = info.attempts > 1 ? ` after ${info.attempts} attempts` : "";
    const tail = info.stderrTail ? `\nlast stderr lines of the worker:\n${info.stderrTail}` : "";
    super(`worker ${info.workerId} (${info.pid !== undefined ? `pid ${info.pid}` : `thread ${info.threadId}`}${item}) ${how} while running the task${tries}${tail}`);
    this.workerId = info.workerId;
    this.pid = info.pid;
    this.threadId = info.threadId;
    this.exitCode = info.exitCode;
    this.signal = info.signal;
    this.range = range;
    this.index = index;
    this.indexExact = exact;
    this.attempts = info.attempts;
    this.stderrTail = info.stderrTail ?? "";
  }
}

/** A running task was stopped by `pool.interrupt()` (or by the pool's shutdown). */
export class InterruptedError extends Error {
  override name = "InterruptedError";
  readonly workerId: number | undefined;
  readonly index: number | undefined;
  /**
   * True when the worker the task was on is gone, its state with it: it did not stop within the
   * grace period and was killed (a thread stuck in a native call is abandoned), or it died while
   * being stopped. The pool starts a replacement under the same id.
   */
  readonly workerReplaced: boolean;
  constructor(message: string, info: { workerId?: number; index?: number; workerReplaced?: boolean } = {}) {
    super(message + where(info.workerId, info.index));
    this.workerId = info.workerId;
    this.index = info.index;
    this.workerReplaced = info.workerReplaced ?? false;
  }
}

/** A task ran longer than its timeout (the call's `timeout`, else the pool's `taskTimeout`). */
export class TaskTimeoutError extends InterruptedError {
  override name = "TaskTimeoutError";
  readonly timeoutMs: number;
  constructor(timeoutMs: number, info: { workerId?: number; index?: number; workerReplaced?: boolean }) {
    super(`the task ran longer than its timeout of ${timeoutMs} ms and was stopped`, info);
    this.timeoutMs = timeoutMs;
  }
}

/** A task was cancelled (AsyncResult.cancel()). */
export class CancelledError extends Error {
  override name = "CancelledError";
}

/** The pool was closed or terminated, so it takes no new work (or dropped pending work). */
export class PoolClosedError extends Error {
  override name = "PoolClosedError";
}

/** The pool cannot run tasks: workers die while starting, or the initializer fails. */
export class PoolBrokenError extends Error {
  override name = "PoolBrokenError";
}
