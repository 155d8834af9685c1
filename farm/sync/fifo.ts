/**
 * An in-memory first-in-first-out buffer with waiting: the state behind Queue, JoinableQueue and
 * Pipe in the realm that created them (workers reach it through handle calls). Optionally bounded;
 * waiting getters and putters are served in arrival order; close() ends it for readers once empty.
 */

import { abortReason } from "./errors.js";
import type { Deadline } from "./wait.js";

interface Waiter<T> {
  settle(ok: boolean, value?: T, error?: unknown): void;
}

const MAX_TIMER = 2 ** 31 - 1;

/** A waiter that can time out, be aborted, or be settled once by the FIFO. */
function makeWaiter<T>(
  list: Waiter<T>[],
  deadline: Deadline,
  signal: AbortSignal | undefined,
  onTimeout: () => unknown,
  extra?: Partial<Waiter<T>> & Record<string, unknown>,
): { waiter: Waiter<T>; promise: Promise<T> } {
  let waiter!: Waiter<T>;
  const promise = new Promise<T>((resolve, reject) => {
    let done = false;
    const remaining = deadline.remaining();
    // No timer at all without a limit: a pending get/put is then just a pending promise.
    const timer = remaining === Infinity ? undefined : setTimeout(() => finish(false, undefined, onTimeout()), Math.min(remaining, MAX_TIMER));
    const onAbort = () => finish(false, undefined, abortReason(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });
    function finish(ok: boolean, value?: T, error?: unknown) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      const i = list.indexOf(waiter);
      if (i >= 0) list.splice(i, 1);
      if (ok) resolve(value as T);
      else reject(error);
    }
    waiter = Object.assign({ settle: finish }, extra);
  });
  list.push(waiter);
  return { waiter, promise };
}

export class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  readonly #getters: Waiter<T>[] = [];
  readonly #putters: (Waiter<void> & { item: T })[] = [];
  readonly #watchers: Waiter<boolean>[] = [];
  #closedError: (() => Error) | null = null;

  /** @param maxsize 0 = unbounded */
  constructor(readonly maxsize: number) {}

  get size(): number {
    return this.#items.length - this.#head;
  }
  get full(): boolean {
    return this.maxsize > 0 && this.size >= this.maxsize;
  }
  get closed(): boolean {
    return this.#closedError !== null;
  }

  #shift(): T {
    const item = this.#items[this.#head]!;
    (this.#items as unknown[])[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Moves waiting putters' items in while there is room. */
  #admitPutters(): void {
    while (this.#putters.length > 0 && !this.full) {
      const p = this.#putters[0]!;
      this.#items.push(p.item);
      p.settle(true);
    }
  }

  #deliver(): void {
    while (this.#getters.length > 0 && this.size > 0) {
      this.#getters[0]!.settle(true, this.#shift());
      this.#admitPutters();
    }
    if (this.size > 0 || this.closed) while (this.#watchers.length > 0) this.#watchers[0]!.settle(true, true);
    if (this.closed && this.size === 0) {
      while (this.#getters.length > 0) this.#getters[0]!.settle(false, undefined, this.#closedError!());
    }
  }

  /** Adds without waiting; returns false when full. */
  tryPut(item: T): boolean {
    if (this.full || this.#putters.length > 0) return false;
    this.#items.push(item);
    this.#deliver();
    return true;
  }

  async put(item: T, deadline: Deadline, signal: AbortSignal | undefined, onFull: () => Error): Promise<void> {
    signal?.throwIfAborted();
    if (this.tryPut(item)) return;
    if (deadline.remaining() <= 0) throw onFull();
    await makeWaiter<void>(this.#putters as Waiter<void>[], deadline, signal, onFull, { item }).promise;
    this.#deliver();
  }

  /** Takes the oldest item without waiting; `undefined` result means there was none. */
  tryGet(): { item: T } | undefined {
    if (this.size === 0 || this.#getters.length > 0) return undefined;
    const item = this.#shift();
    this.#admitPutters();
    return { item };
  }

  async get(deadline: Deadline, signal: AbortSignal | undefined, onEmpty: () => Error): Promise<T> {
    signal?.throwIfAborted();
    const got = this.tryGet();
    if (got !== undefined) return got.item;
    if (this.closed) throw this.#closedError!();
    if (deadline.remaining() <= 0) throw onEmpty();
    return makeWaiter<T>(this.#getters, deadline, signal, onEmpty).promise;
  }

  /** Puts an item back at the front (a getter gave up after receiving it). */
  unget(item: T): void {
    this.#items.splice(this.#head, 0, item);
    this.#deliver();
  }

  /** Resolves true once an item is available (or the FIFO is closed), false on timeout. */
  async readable(deadline: Deadline, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.size > 0 || this.closed) return true;
    if (deadline.remaining() <= 0) return false;
    try {
      return await makeWaiter<boolean>(this.#watchers, deadline, signal, () => TIMED_OUT).promise;
    } catch (e) {
      if (e === TIMED_OUT) return false;
      throw e;
    }
  }

  /** No more items will come: readers get `error()` once the FIFO is empty. */
  close(error: () => Error): void {
    if (this.#closedError !== null) return;
    this.#closedError = error;
    this.#deliver();
  }
}

const TIMED_OUT = Symbol("timed out");
