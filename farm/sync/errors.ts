/**
 * Errors raised by the synchronisation primitives. When a primitive is used from a process
 * worker, the operation runs in the parent and its error travels back; `reviveSyncError` turns
 * it into the same class again on the worker side so `instanceof` keeps working everywhere.
 */

/** A primitive was used in a way that cannot be right (release of an unlocked Lock, ...). */
export class SyncUsageError extends Error {
  override name = "SyncUsageError";
}

/** `Queue.get` timed out (or `getNowait` found nothing): the queue stayed empty. */
export class QueueEmptyError extends Error {
  override name = "QueueEmptyError";
}

/** `Queue.put` timed out (or `putNowait` found no room): the queue stayed full. */
export class QueueFullError extends Error {
  override name = "QueueFullError";
}

/** The Barrier was aborted, reset, or a waiter timed out while others waited. */
export class BrokenBarrierError extends Error {
  override name = "BrokenBarrierError";
}

/**
 * `JoinableQueue.join()`: items were taken by workers that ended before calling taskDone(); they
 * were counted as done so that join() does not wait for ever (see JoinableQueue).
 */
export class TaskLostError extends Error {
  override name = "TaskLostError";
}

/** `recv` on a Connection whose other end is closed and has nothing left to read, or use after `close`. */
export class ConnectionClosedError extends Error {
  override name = "ConnectionClosedError";
}

/** An acquire-like operation that must succeed (`hold`, `withLock`) did not within its timeout. */
export class SyncTimeoutError extends Error {
  override name = "SyncTimeoutError";
}

const classes: Record<string, new (message: string) => Error> = {
  SyncUsageError,
  QueueEmptyError,
  QueueFullError,
  BrokenBarrierError,
  ConnectionClosedError,
  SyncTimeoutError,
  TaskLostError,
};

/** Rebuilds one of the classes above from an error that crossed a process boundary (by name). */
export function reviveSyncError(e: unknown): unknown {
  if (typeof e !== "object" || e === null) return e;
  const { name, message } = e as { name?: unknown; message?: unknown };
  if (typeof name !== "string" || typeof message !== "string") return e;
  const cls = classes[name];
  if (cls === undefined || e instanceof cls) return e;
  const revived = new cls(message);
  const stack = (e as { stack?: unknown }).stack;
  if (typeof stack === "string") revived.stack = stack;
  return revived;
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}
