/**
 * The handle `pool.applyAsync` returns: a real Promise of the task's value (await it, or use
 * then/catch/finally), which can also be polled (ready(), successful(), peek()) and cancelled.
 */
export class AsyncResult<T> extends Promise<T> {
  // then/catch/finally make plain Promises: a derived promise is not the task, and cannot be cancelled
  static override get [Symbol.species](): PromiseConstructor { return Promise; }

  #state: "pending" | "fulfilled" | "rejected" = "pending";
  #value: T | undefined;
  #reason: unknown;
  readonly #canceller: () => Promise<boolean>;

  constructor(task: Promise<T>, canceller: () => Promise<boolean>) {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    super((res, rej) => { resolve = res; reject = rej; });
    this.#canceller = canceller;
    task.then(
      (v) => { this.#state = "fulfilled"; this.#value = v; resolve(v); },
      (e) => { this.#state = "rejected"; this.#reason = e; reject(e); },
    );
    // a result nobody awaits must not crash the program (an unhandled rejection)
    super.then(undefined, () => {});
  }

  /** True once the task finished (successfully or not). */
  ready(): boolean { return this.#state !== "pending"; }

  /** True if the task finished without error; throws if it has not finished yet. */
  successful(): boolean {
    if (this.#state === "pending") throw new Error("the task has not finished yet: check ready() first");
    return this.#state === "fulfilled";
  }

  /** The value, or the error thrown, once ready(); throws if still pending. */
  peek(): T {
    if (this.#state === "fulfilled") return this.#value as T;
    if (this.#state === "rejected") throw this.#reason;
    throw new Error("the task has not finished yet: check ready() first, or await the result");
  }

  /** Waits for the result (the same as awaiting this handle). */
  get(): Promise<T> { return this.then(); }

  /**
   * Cancels the task: drops it if queued, stops it if running; it then rejects with
   * CancelledError. Resolves with true once the task is off its worker, or at once with false if
   * the task had already finished (like Python's Future.cancel(); nothing is sent to a worker).
   */
  cancel(): Promise<boolean> { return this.#canceller(); }
}
