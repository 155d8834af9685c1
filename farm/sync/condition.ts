/**
 * Condition variable over a SharedArrayBuffer plus its Lock or RLock (an RLock by default).
 *
 * Waiters take tickets in order (cell 0 = next ticket, cell 1 = the first ticket not yet
 * notified) and each ticket owns a slot cell: FREE -> WAITING -> NOTIFIED (the notifier moved it)
 * or CANCELLED (the waiter timed out). A waiter and a notifier race on the slot with
 * compare-exchange, so a notification is never lost on a waiter that already gave up: notify(n)
 * wakes the n oldest waiters still waiting.
 *
 * A WAITING or NOTIFIED slot also carries the holder token (holders.ts) of the realm running the
 * wait. When a thread worker ends while waiting, the realm that learns about it cancels that
 * thread's slots and passes any notification it was given but never used on to the next waiter
 * (`_ownerGone`), as a live waiter that gives up does. Every notify happens under the lock, so
 * notifiers never race each other on the head of the ticket line.
 */

import { registerHandleKind } from "../handles.js";
import { SyncUsageError } from "./errors.js";
import { localHolder, type Recoverable } from "./holders.js";
import { baselineOf } from "./job-holds.js";
import { Lock, RLock } from "./lock.js";
import {
  SharedPrimitive,
  asNumber,
  canShareMemory,
  fromWireTimeout,
  unknownMethod,
  wireTimeout,
  type Revival,
  type ServedCaller,
} from "./shared.js";
import { Deadline, checkTimeout, waitWhile, type WaitOptions } from "./wait.js";

const NEXT = 0;
const HEAD = 1;
const SLOTS = 1024;
const FIRST_SLOT = 2;
/** A slot's state is in its low 2 bits; FREE and CANCELLED slots are exactly these values. */
const FREE = 0, WAITING = 1, NOTIFIED = 2, CANCELLED = 3;
const STATE_MASK = 3;
/** The bits above the state that say which realm is waiting in a slot. */
const ownerMark = (holder: number): number => (holder & 0x1fffffff) << 2;

export class Condition extends SharedPrimitive implements Recoverable {
  readonly #cells: Int32Array | null;
  /** The lock that protects the condition's state; acquire it before wait()/notify(). */
  readonly lock: Lock | RLock;

  /**
   * @param lock the lock to use (default: a new RLock)
   * @param revival internal: used when a Condition arrives from another realm
   */
  constructor(lock?: Lock | RLock, revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super("Condition", revival, local);
    if (revival === undefined) {
      if (lock !== undefined && !(lock instanceof Lock) && !(lock instanceof RLock)) {
        throw new TypeError("Condition(lock): lock must be a Lock or an RLock");
      }
      this.lock = lock ?? new RLock();
      this.#cells = new Int32Array(new SharedArrayBuffer((FIRST_SLOT + SLOTS) * 4));
    } else {
      this.lock = (revival.descriptor.extra as { lock: Lock | RLock }).lock;
      this.#cells = local ? new Int32Array(revival.descriptor.sab!) : null;
    }
  }

  protected handleKind(): string {
    return "Condition";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#cells!.buffer as SharedArrayBuffer;
  }
  protected override handleExtra(): unknown {
    return { lock: this.lock };
  }

  acquire(opts?: WaitOptions): Promise<boolean> {
    return this.lock.acquire(opts);
  }
  release(): Promise<void> {
    return this.lock.release();
  }
  hold(opts?: WaitOptions) {
    return this.lock.hold(opts);
  }
  withLock<T>(fn: () => T | Promise<T>, opts?: WaitOptions): Promise<T> {
    return this.lock.withLock(fn, opts);
  }

  /**
   * Releases the lock, waits until notified (or `timeout` ms), then re-acquires the lock.
   * Resolves true when notified, false on timeout. The lock must be held.
   */
  async wait(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout, "Condition.wait");
    const job = this.currentJob();
    const signal = this.signalFor(opts.signal, job);
    // A wait gives the lock up and takes it back, also when it is given up: if that is because
    // the task was stopped, what the task had taken of the lock goes back as soon as it is
    // retaken (the stop itself found the lock given up, so it had nothing to give back then).
    const baseline = job === undefined ? undefined : baselineOf(job, this.lock);
    try {
      if (this.#cells === null) {
        // The parent waits for us and re-acquires the lock for us before answering, also when
        // the wait is withdrawn: either way we come back holding the lock, as locally.
        return (await this.callRemoteAbortable("wait", [wireTimeout(timeout)], signal)) as boolean;
      }
      return await this.#wait(localHolder, new Deadline(timeout), signal);
    } finally {
      if (job?.aborted && baseline !== undefined) await this.lock._dropForJob(baseline);
    }
  }

  /**
   * Waits until `predicate()` is truthy, re-checking after every notification, for at most
   * `timeout` ms in total. Resolves with the predicate's last value. The lock must be held.
   */
  async waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions = {}): Promise<T> {
    const deadline = new Deadline(checkTimeout(opts.timeout, "Condition.waitFor"));
    let result = await predicate();
    while (!result) {
      const remaining = deadline.remaining();
      if (remaining <= 0) break;
      await this.wait({ timeout: remaining, signal: opts.signal });
      result = await predicate();
    }
    return result;
  }

  /** `ownerLife`: for a worker's wait, aborted when that worker ended (then it gets nothing back). */
  async #wait(owner: number, deadline: Deadline, signal?: AbortSignal, ownerLife?: AbortSignal): Promise<boolean> {
    const cells = this.#cells!;
    if (!this.lock._isHeldBy(owner)) {
      throw new SyncUsageError("Condition.wait() needs the condition's lock: acquire it first (await cond.acquire())");
    }
    signal?.throwIfAborted();
    const mine = ownerMark(localHolder);
    const waiting = mine | WAITING;
    const ticket = Atomics.add(cells, NEXT, 1);
    const slot = FIRST_SLOT + ((ticket >>> 0) % SLOTS);
    const before = Atomics.compareExchange(cells, slot, FREE, waiting);
    if (before !== FREE && Atomics.compareExchange(cells, slot, CANCELLED, waiting) !== CANCELLED) {
      throw new SyncUsageError(`Condition.wait(): more than ${SLOTS} waiters at once are not supported`);
    }
    const saved = this.lock._releaseAll(owner);
    let failure: unknown = null;
    try {
      for (;;) {
        if (Atomics.load(cells, slot) === (mine | NOTIFIED)) break;
        const r = await waitWhile(cells, slot, waiting, deadline, signal);
        if (r === "timed-out") {
          if (Atomics.compareExchange(cells, slot, waiting, CANCELLED) === waiting) break;
        }
      }
    } catch (e) {
      failure = e; // aborted: give up the ticket (or, below, pass on a notification we can no longer use)
      Atomics.compareExchange(cells, slot, waiting, CANCELLED);
    }
    // A notification is used once wait() has the lock back: until then the slot stays NOTIFIED,
    // so that if this thread ends first, the realm that learns about it passes the notification on.
    const notified = Atomics.load(cells, slot) === (mine | NOTIFIED);
    let restored = false;
    try {
      // (a worker that ends meanwhile gets nothing back: the restore gives up when it does)
      if (!ownerLife?.aborted) {
        await this.lock._restore(owner, saved, ownerLife);
        restored = true;
      }
    } finally {
      if (notified) {
        Atomics.store(cells, slot, FREE);
        if (!restored) this.#passOn(1);
        else if (failure !== null) this.#notify(1); // we hold the lock again
      }
    }
    if (failure !== null) throw failure;
    return notified;
  }

  /** Notifies `n` waiters under the lock, taken for the purpose: notifications a waiter that went away could not use. */
  #passOn(n: number): void {
    const pass = async () => {
      await this.lock._restore(localHolder, 1);
      try {
        this.#notify(n);
      } finally {
        this.lock._releaseOne(localHolder);
      }
    };
    pass().catch((e) =>
      process.emitWarning(`tspool: a Condition could not pass on a notification its ended waiter missed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /**
   * @internal A thread worker ended: its waits are cancelled, and notifications it had been
   * given but never used go to the next waiters. (Waits served here for process workers are
   * given up through their life signal, in #wait.)
   */
  _ownerGone(holder: number): void {
    if (holder <= 0 || this.#cells === null) return;
    const cells = this.#cells;
    const mark = ownerMark(holder);
    let missed = 0;
    for (let slot = FIRST_SLOT; slot < FIRST_SLOT + SLOTS; slot++) {
      for (;;) {
        const v = Atomics.load(cells, slot);
        if ((v & ~STATE_MASK) !== mark) break; // FREE and CANCELLED carry no mark
        const next = (v & STATE_MASK) === WAITING ? CANCELLED : FREE;
        if (Atomics.compareExchange(cells, slot, v, next) === v) {
          if (next === FREE) missed++;
          break;
        }
      }
    }
    if (missed > 0) this.#passOn(missed);
  }

  /** Wakes up to `n` (default 1) of the waiters, oldest first. The lock must be held. */
  async notify(n: number = 1): Promise<void> {
    if (typeof n !== "number" || !(n >= 0)) throw new TypeError(`Condition.notify(n): n must be a number >= 0`);
    if (this.#cells === null) {
      await this.callRemote("notify", [n === Infinity ? null : n]);
      return;
    }
    this.#checkHeld(localHolder, "notify");
    this.#notify(n);
  }

  /** Wakes all waiters. The lock must be held. */
  notifyAll(): Promise<void> {
    return this.notify(Infinity);
  }

  #checkHeld(owner: number, what: string): void {
    if (!this.lock._isHeldBy(owner)) {
      throw new SyncUsageError(`Condition.${what}() needs the condition's lock: acquire it first`);
    }
  }

  #notify(n: number): void {
    const cells = this.#cells!;
    let head = Atomics.load(cells, HEAD);
    const next = Atomics.load(cells, NEXT);
    let woken = 0;
    while (woken < n && ((next - head) | 0) > 0) {
      const slot = FIRST_SLOT + ((head >>> 0) % SLOTS);
      const v = Atomics.load(cells, slot);
      if ((v & STATE_MASK) === WAITING && Atomics.compareExchange(cells, slot, v, (v & ~STATE_MASK) | NOTIFIED) === v) {
        Atomics.notify(cells, slot);
        woken++;
      }
      head = (head + 1) | 0;
    }
    Atomics.store(cells, HEAD, head);
  }

  protected async serve(method: string, args: unknown[], caller: ServedCaller): Promise<unknown> {
    switch (method) {
      case "wait":
        return this.#wait(caller.holder, new Deadline(fromWireTimeout(args[0])), caller.signal, caller.life);
      case "notify": {
        this.#checkHeld(caller.holder, "notify");
        this.#notify(args[0] === null ? Infinity : asNumber(args[0], "n"));
        return;
      }
      default:
        return unknownMethod("Condition", method);
    }
  }
}

registerHandleKind("Condition", (d, env) => new Condition(undefined, { descriptor: d, env }));
