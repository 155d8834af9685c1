/**
 * What a primitive served from this realm (a JoinableQueue, a Pipe end) keeps per worker that
 * uses it, and what it does when that worker ends. Workers are told apart by their life signal
 * (the Pool aborts it when the worker exits for any reason: see ServedCaller.life), so the state
 * of a worker goes away with it, and a worker that is replaced starts afresh.
 */

import type { ServedCaller } from "./shared.js";

export class ServedWorkers<T> {
  readonly #states = new Map<AbortSignal, T>();

  /**
   * @param fresh the state of a worker seen for the first time
   * @param ended called once when a worker that has a state ends (its state is already forgotten)
   */
  constructor(
    private readonly fresh: () => T,
    private readonly ended: (state: T, workerId: number) => void,
  ) {}

  /**
   * The state of the caller's worker, made on its first call. Undefined for a caller the farm
   * gave no life signal (a host calling serveHandleCall itself) or whose worker already ended.
   */
  of(caller: ServedCaller): T | undefined {
    const life = caller.life;
    if (life === undefined || life.aborted) return undefined;
    let state = this.#states.get(life);
    if (state === undefined) {
      const made = this.fresh();
      state = made;
      this.#states.set(life, made);
      const workerId = caller.workerId;
      life.addEventListener("abort", () => {
        this.#states.delete(life);
        this.ended(made, workerId);
      }, { once: true });
    }
    return state;
  }

  /** The states of the workers that are still alive. */
  states(): IterableIterator<T> {
    return this.#states.values();
  }

  get size(): number {
    return this.#states.size;
  }
}
