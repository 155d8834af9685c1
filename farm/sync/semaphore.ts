/**
 * Semaphore and BoundedSemaphore over one SharedArrayBuffer: cell 0 is the counter, cell 1 the
 * bound (0 = unbounded). acquire() waits while the counter is 0 and takes one; release(n) adds n.
 */

import { registerHandleKind, type HandleCaller } from "../handles.js";
import { SyncUsageError } from "./errors.js";
import { Acquirable } from "./lock.js";
import {
  asNumber,
  canShareMemory,
  fromWireTimeout,
  unknownMethod,
  wireTimeout,
  type Revival,
} from "./shared.js";
import { Deadline, checkTimeout, waitWhile, wakeAll, type WaitOptions } from "./wait.js";

const MAX = 0x7fffffff;

function checkCount(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX) {
    throw new TypeError(`${what} must be an integer from 0 to ${MAX}, got ${String(n)}`);
  }
  return n;
}

export class Semaphore extends Acquirable {
  readonly #cells: Int32Array | null;

  /**
   * @param value how many times it can be acquired before acquire() waits (default 1)
   * @param revival internal: used when a semaphore arrives from another realm
   */
  constructor(value: number = 1, revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super(new.target.name, revival, local);
    if (revival === undefined) {
      checkCount(value, `${new.target.name} initial value`);
      this.#cells = new Int32Array(new SharedArrayBuffer(8));
      this.#cells[0] = value;
      this.#cells[1] = this.bounded() ? value : 0;
    } else {
      this.#cells = local ? new Int32Array(revival.descriptor.sab!) : null;
    }
  }

  protected bounded(): boolean {
    return false;
  }
  protected handleKind(): string {
    return "Semaphore";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#cells!.buffer as SharedArrayBuffer;
  }

  /** Takes one unit, waiting while there is none. Resolves false when `timeout` ms passed first. */
  async acquire(opts: WaitOptions = {}): Promise<boolean> {
    const timeout = checkTimeout(opts.timeout, `${this.constructor.name}.acquire`);
    if (this.#cells === null) {
      return (await this.callRemoteAbortable("acquire", [wireTimeout(timeout)], this.signalFor(opts.signal), async (got) =>
        got && this.callRemote("release", [1]))) as boolean;
    }
    return this.#acquire(new Deadline(timeout), this.signalFor(opts.signal));
  }

  async #acquire(deadline: Deadline, signal?: AbortSignal): Promise<boolean> {
    const cells = this.#cells!;
    for (;;) {
      const v = Atomics.load(cells, 0);
      if (v > 0) {
        if (Atomics.compareExchange(cells, 0, v, v - 1) === v) return true;
        continue;
      }
      const r = await waitWhile(cells, 0, 0, deadline, signal);
      if (r === "timed-out") {
        const w = Atomics.load(cells, 0);
        if (w > 0 && Atomics.compareExchange(cells, 0, w, w - 1) === w) return true;
        return false;
      }
    }
  }

  /** Gives back `n` units (default 1), waking waiters. */
  async release(n: number = 1): Promise<void> {
    checkCount(n, `${this.constructor.name}.release count`);
    if (this.#cells === null) {
      await this.callRemote("release", [n]);
      return;
    }
    this.#release(n);
  }

  #release(n: number): void {
    const cells = this.#cells!;
    const bound = Atomics.load(cells, 1);
    for (;;) {
      const v = Atomics.load(cells, 0);
      if (bound > 0 && v + n > bound) {
        throw new SyncUsageError(
          `BoundedSemaphore released too many times: its value would become ${v + n}, above its initial value ${bound}`,
        );
      }
      if (v + n > MAX) throw new SyncUsageError(`Semaphore value would overflow (${v} + ${n})`);
      if (Atomics.compareExchange(cells, 0, v, v + n) === v) break;
    }
    wakeAll(cells, 0);
  }

  /** The current counter (a snapshot: others may change it right after). */
  async value(): Promise<number> {
    if (this.#cells === null) return (await this.callRemote("value", [])) as number;
    return Atomics.load(this.#cells, 0);
  }

  protected async serve(method: string, args: unknown[], caller: HandleCaller): Promise<unknown> {
    switch (method) {
      case "acquire": {
        const got = await this.#acquire(new Deadline(fromWireTimeout(args[0])), caller.signal);
        if (got && caller.signal?.aborted) {
          this.#release(1);
          return false;
        }
        return got;
      }
      case "release":
        return this.#release(checkCount(asNumber(args[0], "release count"), "release count"));
      case "value":
        return Atomics.load(this.#cells!, 0);
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
