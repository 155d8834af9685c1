/**
 * Barrier for a fixed number of parties over one SharedArrayBuffer.
 * Cell 0 packs the whole state so that it changes atomically: bit 31 = broken, bits 16..30 =
 * generation, bits 0..15 = parties arrived in this generation. Cell 1 remembers the last
 * generation that ended by reset() (plus one), so its waiters learn they were broken, not released.
 */

import { registerHandleKind, type HandleCaller } from "../handles.js";
import { BrokenBarrierError } from "./errors.js";
import {
  SharedPrimitive,
  canShareMemory,
  fromWireTimeout,
  unknownMethod,
  wireTimeout,
  type Revival,
} from "./shared.js";
import { Deadline, checkTimeout, waitWhile, wakeAll, type WaitOptions } from "./wait.js";

const BROKEN = 1 << 31;
const GEN_SHIFT = 16;
const GEN_MASK = 0x7fff;
const COUNT_MASK = 0xffff;
const STATE = 0, RESET_OF = 1;

const generation = (s: number) => (s >>> GEN_SHIFT) & GEN_MASK;

export interface BarrierOptions {
  /** Default timeout (ms) for wait() calls that give none. */
  timeout?: number;
  /**
   * Runs once per generation when the last party arrives, before anybody is released (in the
   * realm that created the barrier, whichever party arrived last). If it throws, the barrier
   * breaks: the last party gets the error, the others BrokenBarrierError.
   */
  action?: () => unknown;
}

export class Barrier extends SharedPrimitive {
  readonly #cells: Int32Array | null;
  /** How many parties must call wait() before all of them are released. */
  readonly parties: number;
  readonly #timeout: number;
  readonly #action: (() => unknown) | null;
  readonly #hasAction: boolean;

  /** @param revival internal: used when a Barrier arrives from another realm */
  constructor(parties: number, opts: BarrierOptions = {}, revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super("Barrier", revival, local);
    if (revival === undefined) {
      if (!Number.isInteger(parties) || parties < 1 || parties > COUNT_MASK) {
        throw new TypeError(`Barrier(parties): parties must be an integer from 1 to ${COUNT_MASK}, got ${String(parties)}`);
      }
      this.parties = parties;
      this.#timeout = checkTimeout(opts.timeout, "Barrier");
      if (opts.action !== undefined && typeof opts.action !== "function") {
        throw new TypeError("Barrier({ action }): action must be a function");
      }
      this.#action = opts.action ?? null;
      this.#hasAction = this.#action !== null;
      this.#cells = new Int32Array(new SharedArrayBuffer(8));
    } else {
      const extra = revival.descriptor.extra as { parties: number; timeout: number | null; action: boolean };
      this.parties = extra.parties;
      this.#timeout = fromWireTimeout(extra.timeout);
      this.#action = null;
      this.#hasAction = extra.action === true;
      this.#cells = local ? new Int32Array(revival.descriptor.sab!) : null;
    }
  }

  protected handleKind(): string {
    return "Barrier";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#cells!.buffer as SharedArrayBuffer;
  }
  protected override handleExtra(): unknown {
    return { parties: this.parties, timeout: wireTimeout(this.#timeout), action: this.#hasAction };
  }

  /**
   * Waits until `parties` callers are waiting, then releases them all. Resolves with this
   * caller's arrival index (0 .. parties-1; exactly one caller gets parties-1, the last).
   * Rejects with BrokenBarrierError if the barrier is or becomes broken (abort(), reset(), or a
   * waiter's timeout, which also breaks it for everybody, as in Python).
   */
  async wait(opts: WaitOptions = {}): Promise<number> {
    const timeout = opts.timeout === undefined ? this.#timeout : checkTimeout(opts.timeout, "Barrier.wait");
    if (this.#cells === null) {
      return (await this.callRemoteAbortable("wait", [wireTimeout(timeout)], this.signalFor(opts.signal))) as number;
    }
    return this.#wait(new Deadline(timeout), this.signalFor(opts.signal));
  }

  async #wait(deadline: Deadline, signal?: AbortSignal): Promise<number> {
    const cells = this.#cells!;
    let state: number, index: number;
    for (;;) {
      state = Atomics.load(cells, STATE);
      if (state & BROKEN) throw new BrokenBarrierError("the Barrier is broken (aborted or a waiter timed out); reset() it to use it again");
      index = state & COUNT_MASK;
      if (index === this.parties) {
        // full: the action of this generation is running; join the next generation after it
        if ((await waitWhile(cells, STATE, state, deadline, signal)) === "timed-out") {
          this.#abort();
          throw new BrokenBarrierError("Barrier.wait() timed out while the barrier action ran; the barrier is now broken");
        }
        continue;
      }
      const g = generation(state);
      const last = index + 1 === this.parties;
      const next = !last ? (g << GEN_SHIFT) | (index + 1) : this.#hasAction ? (g << GEN_SHIFT) | this.parties : ((g + 1) & GEN_MASK) << GEN_SHIFT;
      if (Atomics.compareExchange(cells, STATE, state, next) === state) {
        state = next;
        break;
      }
    }
    if (index + 1 === this.parties) {
      if (this.#hasAction) await this.#runAction(state);
      wakeAll(cells, STATE);
      return index;
    }
    const gen = generation(state);
    try {
      for (;;) {
        const now = Atomics.load(cells, STATE);
        if (generation(now) !== gen) {
          if (Atomics.load(cells, RESET_OF) === gen + 1) {
            throw new BrokenBarrierError("the Barrier was reset while this party was waiting");
          }
          return index;
        }
        if (now & BROKEN) throw new BrokenBarrierError("the Barrier was broken while this party was waiting (abort() or another party timed out)");
        const r = await waitWhile(cells, STATE, now, deadline, signal);
        if (r === "timed-out") {
          const after = Atomics.load(cells, STATE);
          if (generation(after) !== gen || after & BROKEN) continue; // decided meanwhile
          this.#abort();
          throw new BrokenBarrierError(`Barrier.wait() timed out with ${after & COUNT_MASK} of ${this.parties} parties waiting; the barrier is now broken`);
        }
      }
    } catch (e) {
      if (!(e instanceof BrokenBarrierError)) this.#abort(); // aborted by signal: the others cannot complete either
      throw e;
    }
  }

  /** Runs the action for the generation in `full`, then releases it (or breaks the barrier if the action fails). */
  async #runAction(full: number): Promise<void> {
    const cells = this.#cells!;
    try {
      if (this.#action !== null) await this.#action();
      else await this.callHome("action", []);
    } catch (e) {
      this.#abort();
      throw e;
    }
    const released = ((generation(full) + 1) & GEN_MASK) << GEN_SHIFT;
    if (Atomics.compareExchange(cells, STATE, full, released) !== full) {
      throw new BrokenBarrierError("the Barrier was aborted or reset while its action ran");
    }
  }

  /** Breaks the barrier: current and future waiters get BrokenBarrierError until reset(). */
  async abort(): Promise<void> {
    if (this.#cells === null) {
      await this.callRemote("abort", []);
      return;
    }
    this.#abort();
  }

  #abort(): void {
    const cells = this.#cells!;
    for (;;) {
      const s = Atomics.load(cells, STATE);
      if (s & BROKEN || Atomics.compareExchange(cells, STATE, s, s | BROKEN) === s) break;
    }
    wakeAll(cells, STATE);
  }

  /** Returns the barrier to its empty state; parties waiting right now get BrokenBarrierError. */
  async reset(): Promise<void> {
    if (this.#cells === null) {
      await this.callRemote("reset", []);
      return;
    }
    const cells = this.#cells;
    for (;;) {
      const s = Atomics.load(cells, STATE);
      const g = generation(s);
      Atomics.store(cells, RESET_OF, g + 1);
      if (Atomics.compareExchange(cells, STATE, s, ((g + 1) & GEN_MASK) << GEN_SHIFT) === s) break;
    }
    wakeAll(cells, STATE);
  }

  /** How many parties are waiting right now. */
  async nWaiting(): Promise<number> {
    if (this.#cells === null) return (await this.callRemote("nWaiting", [])) as number;
    return Atomics.load(this.#cells, STATE) & COUNT_MASK;
  }

  async broken(): Promise<boolean> {
    if (this.#cells === null) return (await this.callRemote("broken", [])) as boolean;
    return (Atomics.load(this.#cells, STATE) & BROKEN) !== 0;
  }

  protected async serve(method: string, args: unknown[], caller: HandleCaller): Promise<unknown> {
    switch (method) {
      case "wait":
        return this.#wait(new Deadline(fromWireTimeout(args[0])), caller.signal);
      case "abort":
        return this.abort();
      case "reset":
        return this.reset();
      case "nWaiting":
        return this.nWaiting();
      case "broken":
        return this.broken();
      case "action":
        return this.#action?.();
      default:
        return unknownMethod("Barrier", method);
    }
  }
}

registerHandleKind("Barrier", (d, env) => new Barrier(1, {}, { descriptor: d, env }));
