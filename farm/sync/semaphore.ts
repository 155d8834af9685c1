/**
 * Semaphore and BoundedSemaphore over one SharedArrayBuffer: cell 0 is the counter, cell 1 the
 * bound (0 = unbounded), cell 2 the initial value, cell 3 the owner-died mark, then a table of
 * SIDES (holder token, permits held) pairs for the main program and thread workers. acquire()
 * waits while the counter is 0 and takes one; release(n) adds n.
 *
 * The permits of the workers a realm serves (process workers) are counted in that realm only, in
 * a Map, since only that realm acts for them and learns when they end: there is no limit to their
 * number. The shared table (for sides that take permits themselves, with Atomics) has SIDES
 * pairs; a side beyond that is not tracked, and a warning says so once.
 *
 * Who holds permits: a permit counts as held by the worker (or main program) that acquired it
 * until that same side releases one; a release by a side that holds none (a semaphore used as a
 * signal) adds a permit without changing anybody's count. What a stopped task or an ended worker
 * held is given back, but never so much that the counter would go above the initial value: a
 * semaphore created at 0 and released by others is a signal, and the permits its takers consumed
 * are not made up again.
 */

import { registerHandleKind } from "../handles.js";
import { SyncUsageError } from "./errors.js";
import { localHolder } from "./holders.js";
import { Acquirable } from "./lock.js";
import { asNumber, unknownMethod, type Revival, type ServedCaller } from "./shared.js";
import { SideTable } from "./side-table.js";
import { Deadline, waitWhile, wakeAll } from "./wait.js";

const MAX = 0x7fffffff;
const VALUE = 0;
const BOUND = 1;
const INITIAL = 2;
const DIED = 3;
const TABLE = 4;
/** How many sides taking permits themselves (the main program, thread workers) can hold permits of one semaphore at once and be tracked. */
const SIDES = 64;

function checkCount(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX) {
    throw new TypeError(`${what} must be an integer from 0 to ${MAX}, got ${String(n)}`);
  }
  return n;
}

export class Semaphore extends Acquirable {
  /** Permits held by the main program and thread workers (null when remote). */
  readonly #sides: SideTable | null;
  /** Permits held by workers this realm serves, by their (negative) holder token. */
  readonly #served = new Map<number, number>();

  /**
   * @param value how many times it can be acquired before acquire() waits (default 1)
   * @param revival internal: used when a semaphore arrives from another realm
   */
  constructor(value: number = 1, revival?: Revival) {
    super(new.target.name, revival, TABLE + 2 * SIDES, DIED);
    this.#sides = this.cells === null ? null : new SideTable(this.cells, TABLE, SIDES, new.target.name, localHolder);
    if (revival === undefined) {
      checkCount(value, `${new.target.name} initial value`);
      const cells = this.cells!;
      cells[VALUE] = value;
      cells[BOUND] = this.bounded() ? value : 0;
      cells[INITIAL] = value;
    }
  }

  protected bounded(): boolean {
    return false;
  }
  protected handleKind(): string {
    return "Semaphore";
  }

  /** Gives back `n` units (default 1), waking waiters. */
  async release(n: number = 1): Promise<void> {
    checkCount(n, `${this.constructor.name}.release count`);
    if (this.cells === null) {
      await this.callRemote("release", [n]);
      return;
    }
    this.#release(localHolder, n);
  }

  #release(holder: number, n: number): void {
    const cells = this.cells!;
    const bound = Atomics.load(cells, BOUND);
    for (;;) {
      const v = Atomics.load(cells, VALUE);
      if (bound > 0 && v + n > bound) {
        throw new SyncUsageError(
          `BoundedSemaphore released too many times: its value would become ${v + n}, above its initial value ${bound}`,
        );
      }
      if (v + n > MAX) throw new SyncUsageError(`Semaphore value would overflow (${v} + ${n})`);
      if (Atomics.compareExchange(cells, VALUE, v, v + n) === v) break;
    }
    const held = this.heldBy(holder);
    if (held > 0) this.#setHeld(holder, held - Math.min(held, n));
    wakeAll(cells, VALUE);
  }

  /** The current counter (a snapshot: others may change it right after). */
  async value(): Promise<number> {
    if (this.cells === null) return (await this.callRemote("value", [])) as number;
    return Atomics.load(this.cells, VALUE);
  }

  protected heldBy(holder: number): number {
    if (holder < 0) return this.#served.get(holder) ?? 0;
    const at = this.#sides!.find(holder);
    return at < 0 ? 0 : Atomics.load(this.cells!, at);
  }

  /** Sets what `holder` holds (only that side, or the realm acting for it, changes it). */
  #setHeld(holder: number, n: number): void {
    if (holder < 0) {
      this.#served.set(holder, n);
      return;
    }
    const at = n > 0 ? this.#sides!.claim(holder) : this.#sides!.find(holder);
    if (at >= 0) Atomics.store(this.cells!, at, n);
  }

  /** `holder` ended: it holds nothing any more, and its place is free. */
  #forget(holder: number): void {
    if (holder < 0) {
      this.#served.delete(holder);
      return;
    }
    const at = this.#sides!.find(holder);
    if (at >= 0) this.#sides!.free(at);
  }

  protected async take(holder: number, deadline: Deadline, signal?: AbortSignal): Promise<boolean> {
    const cells = this.cells!;
    for (;;) {
      const v = Atomics.load(cells, VALUE);
      if (v > 0) {
        if (Atomics.compareExchange(cells, VALUE, v, v - 1) === v) return this.#took(holder);
        continue;
      }
      const r = await waitWhile(cells, VALUE, 0, deadline, signal);
      if (r === "timed-out") {
        const w = Atomics.load(cells, VALUE);
        if (w > 0 && Atomics.compareExchange(cells, VALUE, w, w - 1) === w) return this.#took(holder);
        return false;
      }
    }
  }

  #took(holder: number): true {
    this.#setHeld(holder, this.heldBy(holder) + 1);
    return true;
  }

  protected dropTo(holder: number, baseline: number, ended = false): number {
    const excess = this.heldBy(holder) - baseline;
    if (excess > 0) {
      this.#setHeld(holder, baseline);
      this.#giveBack(excess);
    }
    if (ended) this.#forget(holder);
    return Math.max(0, excess);
  }

  /** Adds up to `k` permits, but not above the initial value (see the top of the file). */
  #giveBack(k: number): void {
    const cells = this.cells!;
    const initial = Atomics.load(cells, INITIAL);
    for (;;) {
      const v = Atomics.load(cells, VALUE);
      const add = Math.min(k, initial - v);
      if (add <= 0) return;
      if (Atomics.compareExchange(cells, VALUE, v, v + add) === v) break;
    }
    wakeAll(cells, VALUE);
  }

  protected serveOther(method: string, args: unknown[], caller: ServedCaller): unknown {
    switch (method) {
      case "release":
        return this.#release(caller.holder, checkCount(asNumber(args[0], "release count"), "release count"));
      case "value":
        return Atomics.load(this.cells!, VALUE);
      default:
        return unknownMethod(this.constructor.name, method);
    }
  }
}

/** A Semaphore that refuses to be released above its initial value (catches release-twice bugs). */
export class BoundedSemaphore extends Semaphore {
  protected override bounded(): boolean {
    return true;
  }
  protected override handleKind(): string {
    return "BoundedSemaphore";
  }
}

registerHandleKind("Semaphore", (d, env) => new Semaphore(0, { descriptor: d, env }));
registerHandleKind("BoundedSemaphore", (d, env) => new BoundedSemaphore(0, { descriptor: d, env }));
