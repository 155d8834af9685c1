/**
 * Barrier for a fixed number of parties over one SharedArrayBuffer.
 * Cell 0 packs the whole state so that it changes atomically: bit 31 = broken, bits 16..30 =
 * generation, bits 0..15 = parties arrived in this generation. Cell 1 remembers the last
 * generation that ended by reset() (plus one), so its waiters learn they were broken, not released.
 * Cell 2 says why it broke (for the error message). Then a table of (holder token, generation and
 * parties waiting) pairs, one per side (the main program, a thread worker) with parties waiting:
 * a side notes its party before it arrives and un-notes it when it leaves, so that when a thread
 * worker ends with a party still at the barrier, the realm that learns about it breaks the
 * barrier (`_ownerGone`), as a process worker's party breaks it when its life signal aborts. A
 * party that died never leaves, so the others would otherwise wait for ever, or (had it arrived)
 * be released with a party fewer than they counted on.
 */

import { registerHandleKind } from "../handles.js";
import { BrokenBarrierError } from "./errors.js";
import { localHolder, type Recoverable } from "./holders.js";
import {
  SharedPrimitive,
  canShareMemory,
  fromWireTimeout,
  unknownMethod,
  wireTimeout,
  type Revival,
  type ServedCaller,
} from "./shared.js";
import { SideTable } from "./side-table.js";
import { Deadline, checkTimeout, waitWhile, wakeAll, type WaitOptions } from "./wait.js";

const BROKEN = 1 << 31;
const GEN_SHIFT = 16;
const GEN_MASK = 0x7fff;
const COUNT_MASK = 0xffff;
const STATE = 0, RESET_OF = 1, WHY = 2, SIDES = 3;
/** At most this many sides with parties at the barrier at once are tracked. */
const MAX_SIDES = 64;

const generation = (s: number) => (s >>> GEN_SHIFT) & GEN_MASK;

/** Why a barrier broke (cell WHY). */
const ABORTED = 1, TIMED_OUT = 2, PARTY_ENDED = 3, ACTION_FAILED = 4;
const WHY_TEXT: Record<number, string> = {
  [ABORTED]: "abort() was called, or a waiting party was cancelled or interrupted",
  [TIMED_OUT]: "a waiting party timed out",
  [PARTY_ENDED]: "the worker of a waiting party ended (it exited, crashed or was stopped)",
  [ACTION_FAILED]: "the barrier action threw",
};

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

export class Barrier extends SharedPrimitive implements Recoverable {
  readonly #cells: Int32Array | null;
  /** Parties waiting, per side (null when remote). */
  readonly #sides: SideTable | null;
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
      this.#cells = new Int32Array(new SharedArrayBuffer((SIDES + 2 * MAX_SIDES) * 4));
    } else {
      const extra = revival.descriptor.extra as { parties: number; timeout: number | null; action: boolean };
      this.parties = extra.parties;
      this.#timeout = fromWireTimeout(extra.timeout);
      this.#action = null;
      this.#hasAction = extra.action === true;
      this.#cells = local ? new Int32Array(revival.descriptor.sab!) : null;
    }
    const cells = this.#cells;
    this.#sides = cells === null ? null : new SideTable(cells, SIDES, (cells.length - SIDES) >> 1, "Barrier", localHolder);
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

  /** `life`: for a wait served for a worker, aborted when that worker ended. */
  async #wait(deadline: Deadline, signal?: AbortSignal, life?: AbortSignal): Promise<number> {
    const cells = this.#cells!;
    let state: number, index: number, gen: number;
    for (;;) {
      state = Atomics.load(cells, STATE);
      if (state & BROKEN) throw new BrokenBarrierError(`the Barrier is broken: ${this.#why()}; reset() it to use it again`);
      index = state & COUNT_MASK;
      if (index === this.parties) {
        // full: the action of this generation is running; join the next generation after it
        if ((await waitWhile(cells, STATE, state, deadline, signal)) === "timed-out") {
          this.#abort(TIMED_OUT);
          throw new BrokenBarrierError("Barrier.wait() timed out while the barrier action ran; the barrier is now broken");
        }
        continue;
      }
      gen = generation(state);
      const last = index + 1 === this.parties;
      const next = !last ? (gen << GEN_SHIFT) | (index + 1) : this.#hasAction ? (gen << GEN_SHIFT) | this.parties : ((gen + 1) & GEN_MASK) << GEN_SHIFT;
      this.#note(gen, 1); // before arriving: a side that ends from here on breaks the barrier
      if (Atomics.compareExchange(cells, STATE, state, next) === state) {
        state = next;
        break;
      }
      this.#note(gen, -1);
    }
    try {
      if (index + 1 === this.parties) {
        if (this.#hasAction) await this.#runAction(state);
        wakeAll(cells, STATE);
        return index;
      }
      return await this.#await(gen, index, deadline, signal, life);
    } finally {
      this.#note(gen, -1);
    }
  }

  /** A party that arrived (not the last) waits for the others. */
  async #await(gen: number, index: number, deadline: Deadline, signal?: AbortSignal, life?: AbortSignal): Promise<number> {
    const cells = this.#cells!;
    try {
      for (;;) {
        const now = Atomics.load(cells, STATE);
        if (generation(now) !== gen) {
          if (Atomics.load(cells, RESET_OF) === gen + 1) {
            throw new BrokenBarrierError("the Barrier was reset while this party was waiting");
          }
          return index;
        }
        if (now & BROKEN) throw new BrokenBarrierError(`the Barrier was broken while this party was waiting: ${this.#why()}`);
        const r = await waitWhile(cells, STATE, now, deadline, signal);
        if (r === "timed-out") {
          const after = Atomics.load(cells, STATE);
          if (generation(after) !== gen || after & BROKEN) continue; // decided meanwhile
          this.#abort(TIMED_OUT);
          throw new BrokenBarrierError(`Barrier.wait() timed out with ${after & COUNT_MASK} of ${this.parties} parties waiting; the barrier is now broken`);
        }
      }
    } catch (e) {
      // given up (cancelled, interrupted, or the worker it waits for ended): the others cannot complete either
      if (!(e instanceof BrokenBarrierError)) this.#abort(life?.aborted ? PARTY_ENDED : ABORTED);
      throw e;
    }
  }

  /**
   * Counts `delta` parties of this side as waiting in generation `gen`. Counts of an older
   * generation are stale (those parties were released or broken) and are replaced.
   */
  #note(gen: number, delta: 1 | -1): void {
    const sides = this.#sides!;
    const at = delta > 0 ? sides.claim(localHolder) : sides.find(localHolder);
    if (at < 0) return;
    const cells = this.#cells!;
    const v = Atomics.load(cells, at);
    const count = (v >>> GEN_SHIFT === gen ? v & COUNT_MASK : 0) + delta;
    if (count > 0) Atomics.store(cells, at, (gen << GEN_SHIFT) | count);
    else sides.free(at); // nothing of this side at the barrier: its pair is free for another side
  }

  /**
   * @internal A thread worker ended: if a party of it was still at the barrier in the current
   * generation (arrived, arriving, or running the action as the last one), the barrier breaks.
   */
  _ownerGone(holder: number): void {
    if (holder <= 0 || this.#cells === null) return;
    const cells = this.#cells;
    const at = this.#sides!.find(holder);
    if (at < 0) return;
    const v = Atomics.load(cells, at);
    this.#sides!.free(at);
    const state = Atomics.load(cells, STATE);
    if ((v & COUNT_MASK) > 0 && v >>> GEN_SHIFT === generation(state) && !(state & BROKEN)) this.#abort(PARTY_ENDED);
  }

  #why(): string {
    return WHY_TEXT[Atomics.load(this.#cells!, WHY)] ?? WHY_TEXT[ABORTED]!;
  }

  /** Runs the action for the generation in `full`, then releases it (or breaks the barrier if the action fails). */
  async #runAction(full: number): Promise<void> {
    const cells = this.#cells!;
    try {
      if (this.#action !== null) await this.#action();
      else await this.callHome("action", []);
    } catch (e) {
      this.#abort(ACTION_FAILED);
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
    this.#abort(ABORTED);
  }

  #abort(why: number): void {
    const cells = this.#cells!;
    for (;;) {
      const s = Atomics.load(cells, STATE);
      if (s & BROKEN) break;
      Atomics.store(cells, WHY, why);
      if (Atomics.compareExchange(cells, STATE, s, s | BROKEN) === s) break;
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
      Atomics.store(cells, WHY, 0);
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

  protected async serve(method: string, args: unknown[], caller: ServedCaller): Promise<unknown> {
    switch (method) {
      case "wait":
        return this.#wait(new Deadline(fromWireTimeout(args[0])), caller.signal, caller.life);
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
