/**
 * Lock and RLock over one SharedArrayBuffer each, and what they share with the semaphores.
 *
 * Lock: cell 0 is 0 (free) or the holder token of whoever took it (see holders.ts). Like Python's
 * Lock it has no owner as far as releasing goes: any side may release it (releasing a free Lock
 * is an error); the token only says whose hold to give back if that holder ends or its task is
 * stopped. Cell 1 is set when a holder ended while holding it (`ownerDied()`).
 * RLock: cell 0 is the owner's token (0 = free), cell 1 the recursion depth, cell 2 the
 * owner-died mark. The owner is the worker (process or thread) or the main program that acquired
 * it; the same owner may acquire it again, and must release it as many times.
 */

import { registerHandleKind } from "../handles.js";
import { SyncTimeoutError, SyncUsageError, abortReason } from "./errors.js";
import { localHolder, type Recoverable } from "./holders.js";
import { noteHold, type JobHeld } from "./job-holds.js";
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
import { Deadline, checkTimeout, waitWhile, wakeAll, type WaitOptions } from "./wait.js";

/** What Condition needs from the lock it waits with. */
export interface ConditionLock {
  /** @internal */ _isHeldBy(owner: number): boolean;
  /** @internal fully releases on behalf of `owner`, returning what `_restore` needs */ _releaseAll(owner: number): number;
  /** @internal */ _restore(owner: number, saved: number, signal?: AbortSignal): Promise<void>;
  /** @internal releases one level taken with `_restore(owner, 1)` */ _releaseOne(owner: number): void;
  readonly isRemote: boolean;
}

/** A remote acquire's answer: whether it was granted, and how much the caller holds now. */
interface Took {
  got: boolean;
  held: number;
}

/**
 * Something that can be acquired and released: Lock, RLock, Semaphore, BoundedSemaphore. Its
 * state is an Int32Array over shared memory; it records who holds it, so that what a stopped task
 * took is given back (job-holds.ts) and what an ended worker held is released (holders.ts).
 */
export abstract class Acquirable extends SharedPrimitive implements JobHeld, Recoverable {
  /** The shared state when this realm can operate on it, else null (operations are calls to the realm serving it). */
  protected readonly cells: Int32Array | null;
  /** The job whose ledger already has this primitive (repeated acquires in one job skip it). */
  #notedFor: AbortSignal | undefined = undefined;

  /** @param diedCell the cell set when a holder ended while holding */
  protected constructor(label: string, revival: Revival | undefined, cellCount: number, private readonly diedCell: number) {
    const local = revival === undefined || canShareMemory(revival);
    super(label, revival, local);
    this.cells = local ? new Int32Array(revival?.descriptor.sab ?? new SharedArrayBuffer(cellCount * 4)) : null;
  }

  protected override handleMemory(): SharedArrayBuffer {
    return this.cells!.buffer as SharedArrayBuffer;
  }

  // What each kind does on its shared state, for a holder token (see holders.ts); local only.
  /** How much `holder` holds: 0 or 1 for a Lock, the depth of an RLock, the permits of a semaphore. */
  protected abstract heldBy(holder: number): number;
  /** Takes one for `holder`, waiting until `deadline`; false when it passed first. */
  protected abstract take(holder: number, deadline: Deadline, signal?: AbortSignal): Promise<boolean>;
  /**
   * Gives back what `holder` holds above `baseline` and wakes waiters; `ended`: the holder is gone
   * for good (forget it). Returns how much it held above the baseline.
   */
  protected abstract dropTo(holder: number, baseline: number, ended?: boolean): number;
  /** Remote operations specific to the kind. */
  protected abstract serveOther(method: string, args: unknown[], caller: ServedCaller): unknown;

  /**
   * Waits until it can be taken and takes it. Resolves true when acquired, false when `timeout` ms
   * passed first; rejects when `signal` aborts (or when the task calling it was stopped).
   */
  async acquire(opts: WaitOptions = {}): Promise<boolean> {
    // This is the hot path of every lock: the usual call (no timeout, no signal, a job that
    // already noted this primitive) builds no label and reads no AbortSignal state.
    const timeout = opts.timeout === undefined ? Infinity : checkTimeout(opts.timeout, `${this.constructor.name}.acquire`);
    const job = this.currentJob();
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    if (this.cells === null) {
      const took = (await this.callRemoteAbortable("acquire", [wireTimeout(timeout)], this.signalFor(opts.signal, job), async (r) => {
        const late = r as Took; // granted after we gave up: give back exactly that grant
        if (late.got) await this.callRemote("$dropTo", [late.held - 1]);
      })) as Took;
      if (job !== undefined && this.#notedFor !== job) {
        noteHold(job, this, took.got ? took.held - 1 : took.held);
        this.#notedFor = job;
      }
      return took.got;
    }
    if (job !== undefined && this.#notedFor !== job) {
      if (job.aborted) throw abortReason(job); // a stopped task takes nothing more
      noteHold(job, this, this.heldBy(localHolder));
      this.#notedFor = job;
    }
    return this.take(localHolder, new Deadline(timeout), this.signalFor(opts.signal, job));
  }

  abstract release(): Promise<void>;

  /** `acquire({ timeout: 0 })`: takes it only if that is possible right now. */
  tryAcquire(): Promise<boolean> {
    return this.acquire({ timeout: 0 });
  }

  /**
   * Acquires (throwing SyncTimeoutError if `timeout` passes first) and returns a guard that
   * releases on dispose: `await using _ = await lock.hold();`. Should the task be stopped while
   * it holds the guard, the hold is given back at once and the guard's release does nothing.
   */
  async hold(opts: WaitOptions = {}): Promise<AsyncDisposable & { release(): Promise<void> }> {
    const job = this.currentJob();
    if (!(await this.acquire(opts))) {
      throw new SyncTimeoutError(`could not acquire the ${this.constructor.name} within ${opts.timeout} ms`);
    }
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      if (job?.aborted) return; // its task was stopped, which gave the hold back already
      await this.release();
    };
    return { release, [Symbol.asyncDispose]: release };
  }

  /** Runs `fn` while holding this, releasing afterwards even if `fn` throws (or its task is stopped). */
  async withLock<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<T> {
    const guard = await this.hold(opts);
    try {
      return await fn();
    } finally {
      await guard.release();
    }
  }

  /**
   * Whether a holder ended while holding this (its worker exited, crashed, was killed or ran out
   * of memory) since the last `clearOwnerDied()`. Its hold was given back so that nobody waits
   * forever, but the data it protected may be half-updated: check or repair it, then call
   * `clearOwnerDied()`.
   */
  async ownerDied(): Promise<boolean> {
    if (this.cells === null) return (await this.callRemote("ownerDied", [])) as boolean;
    return Atomics.load(this.cells, this.diedCell) !== 0;
  }

  /** Forgets that a holder ended (after the protected data was checked or repaired). */
  async clearOwnerDied(): Promise<void> {
    if (this.cells === null) {
      await this.callRemote("clearOwnerDied", []);
      return;
    }
    Atomics.store(this.cells, this.diedCell, 0);
  }

  /** @internal */
  _dropForJob(baseline: number): void | Promise<unknown> {
    this.#notedFor = undefined; // so that the stopped job's next acquire looks at its signal again
    if (this.cells === null) return this.callRemote("$dropTo", [baseline]);
    this.dropTo(localHolder, baseline);
  }

  /** @internal */
  _ownerGone(holder: number): void {
    const cells = this.cells!;
    // marked before the waiters are woken, so that the one that gets it sees the mark
    if (this.heldBy(holder) > 0) Atomics.store(cells, this.diedCell, 1);
    this.dropTo(holder, 0, true);
  }

  protected serve(method: string, args: unknown[], caller: ServedCaller): unknown {
    switch (method) {
      case "acquire":
        return this.#serveAcquire(args, caller);
      case "$dropTo":
        this.dropTo(caller.holder, asNumber(args[0], "baseline"));
        return;
      case "ownerDied":
        return Atomics.load(this.cells!, this.diedCell) !== 0;
      case "clearOwnerDied":
        Atomics.store(this.cells!, this.diedCell, 0);
        return;
      default:
        return this.serveOther(method, args, caller);
    }
  }

  async #serveAcquire(args: unknown[], caller: ServedCaller): Promise<Took> {
    const { holder, signal } = caller;
    const got = await this.take(holder, new Deadline(fromWireTimeout(args[0])), signal);
    if (got && signal?.aborted) {
      // withdrawn (or its worker ended) just as it was granted: give this grant back
      this.dropTo(holder, this.heldBy(holder) - 1);
      return { got: false, held: this.heldBy(holder) };
    }
    return { got, held: this.heldBy(holder) };
  }
}

const OWNER = 0;
const LOCK_DIED = 1;

export class Lock extends Acquirable implements ConditionLock {
  /** @param revival internal: used when a Lock arrives from another realm */
  constructor(revival?: Revival) {
    super("Lock", revival, 2, LOCK_DIED);
  }

  protected handleKind(): string {
    return "Lock";
  }

  /** Frees the lock. Releasing a lock that is not held is an error. */
  async release(): Promise<void> {
    if (this.cells === null) {
      await this.callRemote("release", []);
      return;
    }
    this.#release();
  }

  #release(): void {
    const cells = this.cells!;
    if (Atomics.compareExchange(cells, OWNER, localHolder, 0) === localHolder) {
      wakeAll(cells, OWNER); // the usual case: we took it
      return;
    }
    for (;;) {
      const holder = Atomics.load(cells, OWNER);
      if (holder === 0) throw new SyncUsageError("release() of an unlocked Lock: acquire it first (or release it only once)");
      if (Atomics.compareExchange(cells, OWNER, holder, 0) === holder) break;
    }
    wakeAll(cells, OWNER);
  }

  /** Whether somebody holds the lock right now. */
  async locked(): Promise<boolean> {
    if (this.cells === null) return (await this.callRemote("locked", [])) as boolean;
    return Atomics.load(this.cells, OWNER) !== 0;
  }

  protected heldBy(holder: number): number {
    return Atomics.load(this.cells!, OWNER) === holder ? 1 : 0;
  }

  protected async take(holder: number, deadline: Deadline, signal?: AbortSignal): Promise<boolean> {
    const cells = this.cells!;
    for (;;) {
      const current = Atomics.compareExchange(cells, OWNER, 0, holder);
      if (current === 0) return true;
      if ((await waitWhile(cells, OWNER, current, deadline, signal)) === "timed-out") {
        return Atomics.compareExchange(cells, OWNER, 0, holder) === 0; // a last chance at the deadline
      }
    }
  }

  protected dropTo(holder: number, baseline: number): number {
    const cells = this.cells!;
    if (baseline >= 1 || Atomics.compareExchange(cells, OWNER, holder, 0) !== holder) return 0;
    wakeAll(cells, OWNER);
    return 1;
  }

  protected serveOther(method: string): unknown {
    switch (method) {
      case "release":
        return this.#release();
      case "locked":
        return Atomics.load(this.cells!, OWNER) !== 0;
      default:
        return unknownMethod("Lock", method);
    }
  }

  /** @internal A Lock has no owner: held by anybody counts. */
  _isHeldBy(_owner: number): boolean {
    return Atomics.load(this.cells!, OWNER) !== 0;
  }
  /** @internal */
  _releaseAll(_owner: number): number {
    this.#release();
    return 1;
  }
  /** @internal */
  async _restore(owner: number, _saved: number, signal?: AbortSignal): Promise<void> {
    await this.take(owner, new Deadline(Infinity), signal);
  }
  /** @internal */
  _releaseOne(_owner: number): void {
    this.#release();
  }
}

const DEPTH = 1;
const RLOCK_DIED = 2;

export class RLock extends Acquirable implements ConditionLock {
  /** @param revival internal: used when an RLock arrives from another realm */
  constructor(revival?: Revival) {
    super("RLock", revival, 3, RLOCK_DIED);
  }

  protected handleKind(): string {
    return "RLock";
  }

  /** Goes one level up; the lock is free again when its owner released it as often as it acquired it. */
  async release(): Promise<void> {
    if (this.cells === null) {
      await this.callRemote("release", []);
      return;
    }
    this.#release(localHolder);
  }

  #release(owner: number): void {
    const cells = this.cells!;
    const current = Atomics.load(cells, OWNER);
    if (current !== owner) {
      throw new SyncUsageError(
        current === 0
          ? "release() of an unlocked RLock: acquire it first"
          : "release() of an RLock held by another worker: only its owner may release it",
      );
    }
    if (Atomics.sub(cells, DEPTH, 1) === 1) {
      Atomics.store(cells, OWNER, 0);
      wakeAll(cells, OWNER);
    }
  }

  /** Whether anybody holds the lock right now. */
  async locked(): Promise<boolean> {
    if (this.cells === null) return (await this.callRemote("locked", [])) as boolean;
    return Atomics.load(this.cells, OWNER) !== 0;
  }

  /** Whether this worker (or the main program, when called there) holds the lock. */
  async isMine(): Promise<boolean> {
    if (this.cells === null) return (await this.callRemote("isMine", [])) as boolean;
    return Atomics.load(this.cells, OWNER) === localHolder;
  }

  protected heldBy(holder: number): number {
    const cells = this.cells!;
    return Atomics.load(cells, OWNER) === holder ? Math.max(1, Atomics.load(cells, DEPTH)) : 0;
  }

  protected take(holder: number, deadline: Deadline, signal?: AbortSignal): Promise<boolean> {
    return this.#take(holder, deadline, signal, 1);
  }

  async #take(owner: number, deadline: Deadline, signal: AbortSignal | undefined, depth: number): Promise<boolean> {
    const cells = this.cells!;
    for (;;) {
      const current = Atomics.load(cells, OWNER);
      if (current === owner) {
        Atomics.add(cells, DEPTH, depth);
        return true;
      }
      if (current === 0 && Atomics.compareExchange(cells, OWNER, 0, owner) === 0) {
        Atomics.store(cells, DEPTH, depth);
        return true;
      }
      if (current === 0) continue;
      const r = await waitWhile(cells, OWNER, current, deadline, signal);
      if (r === "timed-out") {
        if (Atomics.compareExchange(cells, OWNER, 0, owner) === 0) {
          Atomics.store(cells, DEPTH, depth);
          return true;
        }
        return false;
      }
    }
  }

  // Only the owner changes the depth (or, once it ended, the realm releasing for it), so plain
  // stores are enough once the owner is checked.
  protected dropTo(holder: number, baseline: number): number {
    const cells = this.cells!;
    if (Atomics.load(cells, OWNER) !== holder) return 0;
    const depth = Math.max(1, Atomics.load(cells, DEPTH));
    if (depth <= baseline) return 0;
    if (baseline > 0) {
      Atomics.store(cells, DEPTH, baseline);
      return depth - baseline;
    }
    Atomics.store(cells, DEPTH, 0);
    Atomics.store(cells, OWNER, 0);
    wakeAll(cells, OWNER);
    return depth;
  }

  protected serveOther(method: string, _args: unknown[], caller: ServedCaller): unknown {
    switch (method) {
      case "release":
        return this.#release(caller.holder);
      case "locked":
        return Atomics.load(this.cells!, OWNER) !== 0;
      case "isMine":
        return Atomics.load(this.cells!, OWNER) === caller.holder;
      default:
        return unknownMethod("RLock", method);
    }
  }

  /** @internal */
  _isHeldBy(owner: number): boolean {
    return Atomics.load(this.cells!, OWNER) === owner;
  }
  /** @internal */
  _releaseAll(owner: number): number {
    if (!this._isHeldBy(owner)) throw new SyncUsageError("the RLock is not held by this worker");
    return this.dropTo(owner, 0);
  }
  /** @internal */
  async _restore(owner: number, saved: number, signal?: AbortSignal): Promise<void> {
    await this.#take(owner, new Deadline(Infinity), signal, saved);
  }
  /** @internal */
  _releaseOne(owner: number): void {
    this.#release(owner);
  }
}

registerHandleKind("Lock", (d, env) => new Lock({ descriptor: d, env }));
registerHandleKind("RLock", (d, env) => new RLock({ descriptor: d, env }));
