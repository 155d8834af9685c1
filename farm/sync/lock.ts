/**
 * Lock and RLock over one SharedArrayBuffer each.
 *
 * Lock: cell 0 is 0 (free) or 1 (held). Like Python's Lock it has no owner: any side may release
 * it (releasing a free Lock is an error).
 * RLock: cell 0 is the owner's token (0 = free), cell 1 the recursion depth. The owner is the
 * worker (process or thread) or the main program that acquired it; the same owner may acquire it
 * again, and must release it as many times.
 */

import { registerHandleKind, type HandleCaller } from "../handles.js";
import { SyncTimeoutError, SyncUsageError } from "./errors.js";
import {
  SharedPrimitive,
  asNumber,
  canShareMemory,
  fromWireTimeout,
  ownerToken,
  unknownMethod,
  wireTimeout,
  type Revival,
} from "./shared.js";
import { Deadline, checkTimeout, waitWhile, wakeAll, type WaitOptions } from "./wait.js";

/** What Condition needs from the lock it waits with. */
export interface ConditionLock {
  /** @internal */ _isHeldBy(owner: number): boolean;
  /** @internal fully releases on behalf of `owner`, returning what `_restore` needs */ _releaseAll(owner: number): number;
  /** @internal */ _restore(owner: number, saved: number, signal?: AbortSignal): Promise<void>;
  readonly isRemote: boolean;
}

/** Something that can be acquired and released: Lock, RLock, Semaphore, BoundedSemaphore. */
export abstract class Acquirable extends SharedPrimitive {
  abstract acquire(opts?: WaitOptions): Promise<boolean>;
  abstract release(): Promise<void>;

  /** `acquire({ timeout: 0 })`: takes it only if that is possible right now. */
  tryAcquire(): Promise<boolean> {
    return this.acquire({ timeout: 0 });
  }

  /**
   * Acquires (throwing SyncTimeoutError if `timeout` passes first) and returns a guard that
   * releases on dispose: `await using _ = await lock.hold();`.
   */
  async hold(opts: WaitOptions = {}): Promise<AsyncDisposable & { release(): Promise<void> }> {
    if (!(await this.acquire(opts))) {
      throw new SyncTimeoutError(`could not acquire the ${this.constructor.name} within ${opts.timeout} ms`);
    }
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await this.release();
    };
    return { release, [Symbol.asyncDispose]: release };
  }

  /** Runs `fn` while holding this, releasing afterwards even if `fn` throws. */
  async withLock<T>(fn: () => T | Promise<T>, opts: WaitOptions = {}): Promise<T> {
    const guard = await this.hold(opts);
    try {
      return await fn();
    } finally {
      await guard.release();
    }
  }
}

export class Lock extends Acquirable implements ConditionLock {
  readonly #cells: Int32Array | null;

  /** @param revival internal: used when a Lock arrives from another realm */
  constructor(revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super("Lock", revival, local);
    this.#cells = local ? new Int32Array(revival?.descriptor.sab ?? new SharedArrayBuffer(4)) : null;
  }

  protected handleKind(): string {
    return "Lock";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#cells!.buffer as SharedArrayBuffer;
  }

  /**
   * Waits until the lock is free and takes it. Resolves true when acquired, false when `timeout`
   * ms passed first; rejects when `signal` aborts.
   */
  async acquire(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout, "Lock.acquire");
    if (this.#cells === null) {
      return (await this.callRemoteAbortable("acquire", [wireTimeout(timeout)], this.signalFor(opts.signal), async (got) =>
        got && this.callRemote("release", []))) as boolean;
    }
    return this.#acquire(new Deadline(timeout), this.signalFor(opts.signal));
  }

  async #acquire(deadline: Deadline, signal?: AbortSignal): Promise<boolean> {
    const cells = this.#cells!;
    for (;;) {
      if (Atomics.compareExchange(cells, 0, 0, 1) === 0) return true;
      if ((await waitWhile(cells, 0, 1, deadline, signal)) === "timed-out") {
        return Atomics.compareExchange(cells, 0, 0, 1) === 0; // a last chance at the deadline
      }
    }
  }

  /** Frees the lock. Releasing a lock that is not held is an error. */
  async release(): Promise<void> {
    if (this.#cells === null) {
      await this.callRemote("release", []);
      return;
    }
    this.#release();
  }

  #release(): void {
    if (Atomics.compareExchange(this.#cells!, 0, 1, 0) !== 1) {
      throw new SyncUsageError("release() of an unlocked Lock: acquire it first (or release it only once)");
    }
    wakeAll(this.#cells!, 0);
  }

  /** Whether somebody holds the lock right now. */
  async locked(): Promise<boolean> {
    if (this.#cells === null) return (await this.callRemote("locked", [])) as boolean;
    return Atomics.load(this.#cells, 0) === 1;
  }

  protected async serve(method: string, args: unknown[], caller: HandleCaller): Promise<unknown> {
    switch (method) {
      case "acquire": {
        const got = await this.#acquire(new Deadline(fromWireTimeout(args[0])), caller.signal);
        if (got && caller.signal?.aborted) {
          this.#release();
          return false;
        }
        return got;
      }
      case "release":
        return this.#release();
      case "locked":
        return Atomics.load(this.#cells!, 0) === 1;
      default:
        return unknownMethod("Lock", method);
    }
  }

  /** @internal A Lock has no owner: held by anybody counts. */
  _isHeldBy(_owner: number): boolean {
    return Atomics.load(this.#cells!, 0) === 1;
  }
  /** @internal */
  _releaseAll(_owner: number): number {
    this.#release();
    return 1;
  }
  /** @internal */
  async _restore(_owner: number, _saved: number, signal?: AbortSignal): Promise<void> {
    await this.#acquire(new Deadline(Infinity), signal);
  }
}

export class RLock extends Acquirable implements ConditionLock {
  readonly #cells: Int32Array | null;

  /** @param revival internal: used when an RLock arrives from another realm */
  constructor(revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super("RLock", revival, local);
    this.#cells = local ? new Int32Array(revival?.descriptor.sab ?? new SharedArrayBuffer(8)) : null;
  }

  protected handleKind(): string {
    return "RLock";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#cells!.buffer as SharedArrayBuffer;
  }

  /**
   * Takes the lock, or goes one level deeper if this worker (or the main program) already holds it.
   * Resolves false when `timeout` ms passed first.
   */
  async acquire(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout, "RLock.acquire");
    if (this.#cells === null) {
      return (await this.callRemoteAbortable("acquire", [wireTimeout(timeout), ownerToken], this.signalFor(opts.signal), async (got) =>
        got && this.callRemote("release", [ownerToken]))) as boolean;
    }
    return this.#acquire(ownerToken, new Deadline(timeout), this.signalFor(opts.signal));
  }

  async #acquire(owner: number, deadline: Deadline, signal?: AbortSignal, depth = 1): Promise<boolean> {
    const cells = this.#cells!;
    for (;;) {
      const current = Atomics.load(cells, 0);
      if (current === owner) {
        Atomics.add(cells, 1, depth);
        return true;
      }
      if (current === 0 && Atomics.compareExchange(cells, 0, 0, owner) === 0) {
        Atomics.store(cells, 1, depth);
        return true;
      }
      if (current === 0) continue;
      const r = await waitWhile(cells, 0, current, deadline, signal);
      if (r === "timed-out") {
        if (Atomics.compareExchange(cells, 0, 0, owner) === 0) {
          Atomics.store(cells, 1, depth);
          return true;
        }
        return false;
      }
    }
  }

  /** Goes one level up; the lock is free again when its owner released it as often as it acquired it. */
  async release(): Promise<void> {
    if (this.#cells === null) {
      await this.callRemote("release", [ownerToken]);
      return;
    }
    this.#release(ownerToken);
  }

  #release(owner: number): void {
    const cells = this.#cells!;
    const current = Atomics.load(cells, 0);
    if (current !== owner) {
      throw new SyncUsageError(
        current === 0
          ? "release() of an unlocked RLock: acquire it first"
          : "release() of an RLock held by another worker: only its owner may release it",
      );
    }
    if (Atomics.sub(cells, 1, 1) === 1) {
      Atomics.store(cells, 0, 0);
      wakeAll(cells, 0);
    }
  }

  /** Whether anybody holds the lock right now. */
  async locked(): Promise<boolean> {
    if (this.#cells === null) return (await this.callRemote("locked", [])) as boolean;
    return Atomics.load(this.#cells, 0) !== 0;
  }

  /** Whether this worker (or the main program, when called there) holds the lock. */
  async isMine(): Promise<boolean> {
    if (this.#cells === null) return (await this.callRemote("isHeldBy", [ownerToken])) as boolean;
    return Atomics.load(this.#cells, 0) === ownerToken;
  }

  protected async serve(method: string, args: unknown[], caller: HandleCaller): Promise<unknown> {
    switch (method) {
      case "acquire": {
        const owner = asNumber(args[1], "RLock owner");
        const got = await this.#acquire(owner, new Deadline(fromWireTimeout(args[0])), caller.signal);
        if (got && caller.signal?.aborted) {
          this.#release(owner);
          return false;
        }
        return got;
      }
      case "release":
        return this.#release(asNumber(args[0], "RLock owner"));
      case "locked":
        return Atomics.load(this.#cells!, 0) !== 0;
      case "isHeldBy":
        return Atomics.load(this.#cells!, 0) === asNumber(args[0], "RLock owner");
      default:
        return unknownMethod("RLock", method);
    }
  }

  /** @internal */
  _isHeldBy(owner: number): boolean {
    return Atomics.load(this.#cells!, 0) === owner;
  }
  /** @internal */
  _releaseAll(owner: number): number {
    const cells = this.#cells!;
    if (Atomics.load(cells, 0) !== owner) throw new SyncUsageError("the RLock is not held by this worker");
    const depth = Atomics.exchange(cells, 1, 0);
    Atomics.store(cells, 0, 0);
    wakeAll(cells, 0);
    return depth;
  }
  /** @internal */
  async _restore(owner: number, saved: number, signal?: AbortSignal): Promise<void> {
    await this.#acquire(owner, new Deadline(Infinity), signal, saved);
  }
}

registerHandleKind("Lock", (d, env) => new Lock({ descriptor: d, env }));
registerHandleKind("RLock", (d, env) => new RLock({ descriptor: d, env }));
