/**
 * Waiting on shared memory without blocking an event loop: `Atomics.waitAsync` with a deadline
 * and an optional AbortSignal. A pending `waitAsync` does not keep Node's event loop alive by
 * itself, so every wait also holds a timer until it ends; otherwise a program awaiting a lock
 * held by a worker could simply exit.
 */

import { abortReason } from "./errors.js";

export interface WaitOptions {
  /** Milliseconds to wait at most; omitted or Infinity = no limit; 0 = do not wait. */
  timeout?: number;
  /** Gives up waiting (rejecting with the signal's reason) when aborted. */
  signal?: AbortSignal;
}

const MAX_TIMER = 2 ** 31 - 1;

export function checkTimeout(timeout: number | undefined, what: string): number {
  if (timeout === undefined || timeout === null) return Infinity;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
    throw new TypeError(`${what}: timeout must be a number of milliseconds >= 0 (or Infinity), got ${String(timeout)}`);
  }
  return timeout;
}

/** A point in time after which waiting stops. */
export class Deadline {
  private readonly end: number;
  constructor(timeoutMs: number) {
    this.end = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
  }
  remaining(): number {
    return this.end === Infinity ? Infinity : Math.max(0, this.end - performance.now());
  }
  expired(): boolean {
    return this.remaining() <= 0;
  }
}

export type WaitResult = "ok" | "not-equal" | "timed-out";

/**
 * Waits while `cells[index] === value`, until notified, the deadline passes, or `signal` aborts
 * (then rejects with its reason). Spurious "ok" results are possible: callers re-check state.
 */
export function waitWhile(
  cells: Int32Array,
  index: number,
  value: number,
  deadline: Deadline,
  signal?: AbortSignal,
): Promise<WaitResult> | WaitResult {
  if (signal?.aborted) throw abortReason(signal);
  const remaining = deadline.remaining();
  if (remaining <= 0) return "timed-out";
  const r = Atomics.waitAsync(cells, index, value, remaining);
  if (!r.async) return r.value;
  return new Promise<WaitResult>((resolve, reject) => {
    const keepAlive = setTimeout(() => {}, Math.min(remaining + 5, MAX_TIMER));
    const onAbort = () => finish(() => reject(abortReason(signal!)));
    let done = false;
    function finish(settle: () => void) {
      if (done) return;
      done = true;
      clearTimeout(keepAlive);
      signal?.removeEventListener("abort", onAbort);
      settle();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    r.value.then((v) => finish(() => resolve(v)));
  });
}

/** Wakes everybody waiting on `cells[index]` (they re-check state, so waking all is always safe). */
export function wakeAll(cells: Int32Array, index: number): void {
  Atomics.notify(cells, index);
}
