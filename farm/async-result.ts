/** The handle `pool.applyAsync` returns: await it, poll it, or cancel it. */
export class AsyncResult<T> implements PromiseLike<T> {
  private state: "pending" | "fulfilled" | "rejected" = "pending";
  private value: T | undefined;
  private reason: unknown;
  private readonly promise: Promise<T>;

  constructor(promise: Promise<T>, private readonly canceller: () => Promise<boolean>) {
    this.promise = promise.then(
      (v) => { this.state = "fulfilled"; this.value = v; return v; },
      (e) => { this.state = "rejected"; this.reason = e; throw e; },
    );
    this.promise.catch(() => {}); // a result nobody awaits must not crash the program
  }

  /** True once the task finished (successfully or not). */
  ready(): boolean { return this.state !== "pending"; }

  /** True if the task finished without error; throws if it has not finished yet. */
  successful(): boolean {
    if (this.state === "pending") throw new Error("the task has not finished yet: check ready() first");
    return this.state === "fulfilled";
  }

  /** The value, or the error thrown, once ready(); throws if still pending. */
  peek(): T {
    if (this.state === "fulfilled") return this.value as T;
    if (this.state === "rejected") throw this.reason;
    throw new Error("the task has not finished yet: check ready() first, or await the result");
  }

  /** Waits for the result. */
  get(): Promise<T> { return this.promise; }

  /**
   * Cancels the task: drops it if queued, stops it if running; it then rejects with
   * CancelledError. Resolves with true once the task is off its worker, or at once with false if
   * the task had already finished (like Python's Future.cancel(); nothing is sent to a worker).
   */
  cancel(): Promise<boolean> { return this.canceller(); }

  then<R1 = T, R2 = never>(onF?: ((v: T) => R1 | PromiseLike<R1>) | null, onR?: ((e: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return this.promise.then(onF, onR);
  }
}
