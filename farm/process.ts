/**
 * Process: one function running in its own child process, like Python's multiprocessing.Process.
 *
 *   const p = new Process({ target: (q: Queue<number>) => q.put(42), args: [q] });
 *   p.start();
 *   await p.join();            // resolves with the exit code
 *   p.exitCode;                // 0 returned, 1 threw, N for process.exit(N), -signal when killed
 *
 * It is a one-worker Pool that runs the target once and is then shut down, so the target travels
 * like any task (a self-contained function, TaskCode, or a module export), its arguments may carry
 * Locks, Queues and other handles, and its console output reaches this process (by default
 * written to this process's stdout/stderr, like a forked Python process's prints).
 */

import { constants } from "node:os";
import { Pool } from "./pool.js";
import { RemoteError, WorkerCrashedError } from "./errors.js";
import type { OutputEvent } from "./events.js";
import { prepareCode, type TaskFn } from "./task-code.js";

export interface ProcessOptions<A extends unknown[] = unknown[], R = unknown> {
  /** The function to run: self-contained (it travels as source), TaskCode, or `{ module, export }`. */
  target: TaskFn<A, R>;
  args?: A;
  /** A label for messages (default "Process-N"). */
  name?: string;
  /** Run in a worker thread instead of a child process (shares this process's pid). */
  threads?: boolean;
  /** Extra environment variables for the child. */
  env?: Record<string, string | undefined>;
  /** Node options for the child. */
  execArgv?: string[];
  /**
   * Where the child's console output goes: "inherit" (default) writes it to this process's
   * stdout/stderr, "ignore" drops it, a function receives each batch of whole lines.
   */
  output?: "inherit" | "ignore" | ((event: OutputEvent) => void);
}

type State = "created" | "running" | "stopping" | "finished";

let created = 0;

function signalNumber(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[signal];
  return n ?? 0;
}

export class Process<A extends unknown[] = unknown[], R = unknown> implements AsyncDisposable {
  readonly name: string;
  readonly #opts: ProcessOptions<A, R>;
  #state: State = "created";
  #pool: Pool | null = null;
  #pid: number | undefined;
  #exitCode: number | null = null;
  #stopSignal: NodeJS.Signals | null = null;
  #error: unknown = undefined;
  #done: Promise<void> | null = null;
  #result: Promise<Awaited<R>> | null = null;

  constructor(opts: ProcessOptions<A, R>) {
    if (typeof opts !== "object" || opts === null || opts.target === undefined) {
      throw new TypeError("new Process({ target, args }): target (the function to run) is required");
    }
    // a target that cannot run fails here, not later as the exit code of a child that never ran it
    prepareCode(opts.target, "new Process({ target }): target");
    if (opts.args !== undefined && !Array.isArray(opts.args)) {
      throw new TypeError("new Process({ target, args }): args must be an array of arguments");
    }
    const out = opts.output;
    if (out !== undefined && out !== "inherit" && out !== "ignore" && typeof out !== "function") {
      throw new TypeError('new Process({ output }): output must be "inherit", "ignore" or a function');
    }
    this.#opts = opts;
    this.name = opts.name ?? `Process-${++created}`;
  }

  /** Starts the child and runs the target in it. A Process can be started once. */
  start(): void {
    if (this.#state !== "created") throw new Error(`${this.name}: a Process can only be started once; create a new one`);
    this.#state = "running";
    const pool = new Pool({
      workers: 1,
      threads: this.#opts.threads === true,
      env: this.#opts.env,
      execArgv: this.#opts.execArgv,
      output: "events", // this Process decides below where its output goes ("ignore" must print nothing)
    });
    this.#pool = pool;
    this.#pid = pool.status().workers[0]?.pid;
    const out = this.#opts.output ?? "inherit";
    if (out === "inherit") {
      pool.on("output", (e) => (e.stream === "stderr" ? process.stderr : process.stdout).write(e.text));
    } else if (typeof out === "function") {
      pool.on("output", out);
    }
    const result = pool.apply(this.#opts.target, (this.#opts.args ?? []) as A);
    this.#result = result;
    result.catch(() => {}); // the outcome is reported through exitCode/join(); `result` rethrows on demand
    this.#done = result.then(
      () => this.#finish(0, undefined),
      (e: unknown) => this.#finish(this.#codeOf(e), e),
    );
  }

  #codeOf(e: unknown): number {
    if (this.#stopSignal !== null) return -signalNumber(this.#stopSignal);
    if (e instanceof WorkerCrashedError) {
      if (e.signal) return -signalNumber(e.signal);
      if (typeof e.exitCode === "number") return e.exitCode;
      return 1;
    }
    if (e instanceof RemoteError) return 1;
    return 1;
  }

  async #finish(code: number, error: unknown): Promise<void> {
    this.#state = "stopping";
    this.#error = error;
    try {
      await this.#pool?.terminate();
    } finally {
      this.#pool = null;
      this.#exitCode = code;
      this.#state = "finished";
    }
  }

  /** The child's pid (this process's pid for a thread), once started. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /**
   * null while running (or not started); then 0 if the target returned, 1 if it threw, N if it
   * called process.exit(N), or minus the signal number if it was killed (-15 after terminate()).
   */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** What the target threw (a RemoteError carrying the original), or the crash, once finished. */
  get error(): unknown {
    return this.#error;
  }

  /** The target's return value; rejects with what it threw or with the crash. */
  get result(): Promise<Awaited<R>> {
    if (this.#result === null) return Promise.reject(new Error(`${this.name}: not started; call start() first`));
    return this.#result;
  }

  isAlive(): boolean {
    return this.#state === "running" || this.#state === "stopping";
  }

  /**
   * Waits for the child to end and resolves with its exit code; with `timeout` (ms) resolves
   * null if it is still running by then.
   */
  async join(opts: { timeout?: number } = {}): Promise<number | null> {
    if (this.#done === null) throw new Error(`${this.name}: join() before start(): start the Process first`);
    const timeout = opts.timeout;
    if (timeout === undefined || timeout === Infinity) {
      await this.#done;
      return this.#exitCode;
    }
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new TypeError(`${this.name}: join({ timeout }) takes milliseconds >= 0, got ${String(timeout)}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)));
    try {
      await Promise.race([this.#done, expired]);
    } finally {
      clearTimeout(timer);
    }
    return this.#exitCode;
  }

  /** Stops the child with SIGTERM (exit code -15). Resolves once it has ended. */
  terminate(): Promise<void> {
    return this.#stop("SIGTERM");
  }

  /** Stops the child with SIGKILL (exit code -9). Resolves once it has ended. */
  kill(): Promise<void> {
    return this.#stop("SIGKILL");
  }

  async #stop(signal: NodeJS.Signals): Promise<void> {
    if (this.#state === "created") throw new Error(`${this.name}: cannot stop a Process that was never started`);
    if (this.#state !== "running") {
      await this.#done;
      return;
    }
    this.#stopSignal = signal;
    const pid = this.#pid;
    if (this.#opts.threads !== true && pid !== undefined) {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
    // Also end the pool itself: a child killed before it was ready would otherwise be replaced
    // and the target started again in the replacement.
    await this.#pool?.terminate();
    await this.#done;
  }

  /** `await using p = new Process(...)`: stops the child if it is still running. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === "running") await this.terminate();
    else if (this.#done !== null) await this.#done;
  }
}
