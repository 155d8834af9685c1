/**
 * The notebook's default pool: the `pool` global of cells and the pool the `%pool` magics drive.
 * It wraps the farm's Pool (started on first use, or by `%pool start`) with:
 *   - automatic capture: functions passed in travel with what they use from earlier cells;
 *   - output routing: every line a worker prints goes to the cell whose call ran the task,
 *     labelled `[worker N]` (or to that call's live display), never under another cell;
 *   - the names `%%pool run` cells left on the workers (worker-globals.ts), and a task's
 *     ReferenceError for one of them saying why its worker lacks it;
 *   - interrupt support for the executor (`interruptNotebookPools`).
 */
import { availableParallelism } from "node:os";
import { Pool } from "../farm/pool.js";
import type { ApplyOptions, MapOptions, RunOptions } from "../farm/pool.js";
import { AsyncResult } from "../farm/async-result.js";
import type { OutputEvent, PoolStatus, TaskEvent, WorkerEvent, JobKind } from "../farm/events.js";
import type { TaskCode, TaskFn } from "../farm/task-code.js";
import { outputContext } from "../kernel/executor/session.js";
import { toTask } from "./make-task.js";
import { classAwareCall, classAwareRead } from "./class-instances.js";
import type { MagicSession } from "./session-api.js";
import { WorkerGlobals } from "./worker-globals.js";
import { withCellPositions } from "./cell-positions.js";
import { markForCell } from "./task-errors.js";

/** What a tracked call wants to hear about its own tasks. */
export interface CallObserver {
  task?(ev: TaskEvent): void;
  output?(ev: OutputEvent): void;
  workerExit?(ev: WorkerEvent): void;
  /** The kernel is interrupting the pool: this call's tasks are about to be stopped. */
  interrupt?(): void;
}

interface CallRecord {
  /** Passed as the farm call's `tag`, so its task and output events name this record. */
  tag: symbol;
  parent: string | undefined;
  observer?: CallObserver;
}

export interface WorkerInfo { id: number; pid: number; threadId: number; kind: "process" | "thread" }

type Items<T> = readonly T[] | Iterable<T> | ArrayLike<T>;

const pools = new Set<NotebookPool>();
const bySession = new WeakMap<object, NotebookPool>();

export class NotebookPool {
  private farm: Pool | null = null;
  private threads = false;
  private workers: number | undefined;
  /** Calls still running, in the order they began. */
  private readonly calls = new Set<CallRecord>();
  /** Running calls and, for a little while after they end, finished ones (their output may trail). */
  private readonly byTag = new Map<symbol, CallRecord>();
  private lastParent: string | undefined;
  /** Names `%%pool run` cells declared on the workers (worker state; lost when the workers are replaced). */
  readonly workerGlobals: WorkerGlobals;

  constructor(private readonly session: MagicSession) {
    this.workerGlobals = new WorkerGlobals(() => session.executionCount);
    pools.add(this);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Whether the workers are running. */
  get started(): boolean {
    return this.farm !== null && !this.farm.isClosed;
  }

  /** Number of workers (the default size until started). */
  /** Whether the workers are threads (else processes). */
  get threadWorkers(): boolean {
    return this.threads;
  }

  get size(): number {
    return this.farm?.size ?? this.workers ?? availableParallelism();
  }

  /** The farm's Pool itself (started if needed), for its events and the rest of its API. */
  get raw(): Pool {
    return this.ensure();
  }

  private ensure(): Pool {
    if (this.farm && !this.farm.isClosed) return this.farm;
    const farm = new Pool({ workers: this.workers ?? availableParallelism(), threads: this.threads, retries: 1, interruptGrace: 1000 });
    farm.on("task", (ev) => this.onTask(ev));
    farm.on("output", (ev) => this.onOutput(ev));
    farm.on("worker", (ev) => this.onWorker(ev));
    this.farm = farm;
    return farm;
  }

  /** Starts the workers (N of them, threads or processes), or resizes the running pool; resolves when they are up. */
  async start(workers?: number, opts: { threads?: boolean } = {}): Promise<WorkerInfo[]> {
    const threads = opts.threads ?? (this.farm ? this.threads : false);
    if (workers !== undefined) this.workers = workers;
    if (this.farm && !this.farm.isClosed && this.farm.threads !== threads) await this.stop();
    this.threads = threads;
    const farm = this.ensure();
    if (workers !== undefined && farm.size !== workers) await farm.resize(workers);
    await this.whenOnline(farm, 20_000);
    return this.workerInfo();
  }

  /** Stops the workers (running tasks get up to 2 s to finish). The next use starts new ones. */
  async stop(): Promise<void> {
    const farm = this.farm;
    if (!farm) return;
    this.farm = null;
    this.workerGlobals.clear();
    farm.close();
    const joined = farm.join().then(() => true, () => true);
    const timedOut = new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref());
    if (!(await Promise.race([joined, timedOut]))) await farm.terminate();
  }

  /** Replaces every worker with a fresh one (same size and kind); worker state is lost. */
  async restart(): Promise<WorkerInfo[]> {
    const size = this.farm?.size ?? this.workers;
    const farm = this.farm;
    this.farm = null;
    this.workerGlobals.clear();
    if (farm) await farm.terminate();
    return this.start(size, { threads: this.threads });
  }

  async resize(n: number): Promise<void> {
    this.workers = n;
    await this.ensure().resize(n);
  }

  /** Stops running and queued tasks; workers whose code cannot be stopped within 1 s are replaced. */
  async interrupt(): Promise<void> {
    for (const c of [...this.calls]) c.observer?.interrupt?.();
    if (this.farm) await this.farm.interrupt();
  }

  status(): PoolStatus | null {
    return this.farm ? this.farm.status() : null;
  }

  async refreshStatus(): Promise<PoolStatus | null> {
    return this.farm ? this.farm.refreshStatus() : null;
  }

  private workerInfo(): WorkerInfo[] {
    const st = this.farm?.status();
    return (st?.workers ?? []).map((w) => ({ id: w.id, pid: w.pid, threadId: w.threadId, kind: w.kind }));
  }

  private whenOnline(farm: Pool, timeoutMs: number): Promise<void> {
    const allUp = () => {
      const workers = farm.status().workers;
      return workers.length >= farm.size && workers.every((w) => w.state !== "starting");
    };
    if (allUp()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      function done() {
        clearTimeout(timer);
        farm.off("worker", check);
        resolve();
      }
      function check() {
        if (allUp()) done();
      }
      farm.on("worker", check);
    });
  }

  // ------------------------------------------------------------------ running tasks

  private task(fn: unknown, what: string): TaskFn {
    return toTask(fn, { bindings: this.session.bindings, sharedMemory: this.threads }, what) as TaskFn;
  }

  /**
   * The task and items of a map-like call, made to keep notebook-class instances whole (see
   * class-instances.ts), with stack traces in cell terms on the workers (see cell-positions.ts).
   */
  private call(fn: unknown, what: string, items: Items<unknown>, star: boolean): { task: TaskFn; items: Items<unknown>; decode?: (v: unknown) => unknown } {
    const task = this.task(fn, what);
    if (typeof fn !== "function") return { task, items };
    const c = classAwareCall(task as TaskCode, items, star, { bindings: this.session.bindings, scope: globalThis as Record<string, unknown> });
    return { task: withCellPositions(c.task, this.session, { name: fn.name }) as TaskFn, items: c.items, decode: c.decode };
  }

  /**
   * Runs `start` as a call whose tasks' events and output belong to `parent` (the request that
   * made the call). `start` must pass `tag` as the farm call's `tag` option: that is how events
   * find their call. Used by the methods below and by the `%%pool` magics (with an observer).
   */
  async tracked<T>(kind: JobKind, parent: string | undefined, start: (farm: Pool, tag: symbol) => Promise<T>, observer?: CallObserver): Promise<T> {
    const call = this.openCall(kind, parent, observer);
    try {
      return await start(this.ensure(), call.tag);
    } catch (e) {
      throw this.cellError(e);
    } finally {
      this.closeCall(call);
    }
  }

  /**
   * A call's error as the cell gets it: a worker's ReferenceError for a name the workers should
   * have says why (see worker-globals.ts), and it is marked so that a cell that does not catch
   * it shows the task's own error (see task-errors.ts).
   */
  private cellError(e: unknown): unknown {
    this.workerGlobals.explain(e, this.session.bindings);
    return markForCell(e);
  }

  private openCall(kind: JobKind, parent: string | undefined, observer?: CallObserver): CallRecord {
    if (parent) this.lastParent = parent;
    const call: CallRecord = { tag: Symbol(kind), parent, observer };
    this.calls.add(call);
    this.byTag.set(call.tag, call);
    return call;
  }

  private closeCall(call: CallRecord): void {
    if (!this.calls.delete(call)) return;
    // Lines written through the pipes (not the captured console) may trail the results a little.
    setTimeout(() => this.byTag.delete(call.tag), 2000).unref();
  }

  private parentNow(): string | undefined {
    return outputContext.getStore()?.parent ?? this.lastParent;
  }

  /** fn(item) for every item, on the workers; results in input order. */
  async map<T, R>(fn: TaskFn<[T], R>, items: Items<T>, opts: MapOptions = {}): Promise<Awaited<R>[]> {
    const c = this.call(fn, "pool.map", items, false);
    const results = await this.tracked("map", this.parentNow(), (farm, tag) => farm.map(c.task, c.items, { ...opts, tag }));
    return (c.decode ? results.map(c.decode) : results) as Awaited<R>[];
  }

  /** fn(...args) for every args array; results in input order. */
  async starmap<A extends unknown[], R>(fn: TaskFn<A, R>, items: Items<A>, opts: MapOptions = {}): Promise<Awaited<R>[]> {
    const c = this.call(fn, "pool.starmap", items, true);
    const results = await this.tracked("map", this.parentNow(), (farm, tag) => farm.starmap(c.task, c.items as Items<unknown[]>, { ...opts, tag }));
    return (c.decode ? results.map(c.decode) : results) as Awaited<R>[];
  }

  /** Like map, yielding results in input order as they become available. */
  imap<T, R>(fn: TaskFn<[T], R>, items: Items<T>, opts: MapOptions = {}): AsyncIterableIterator<Awaited<R>> {
    return this.iterate(fn, items, opts, true) as AsyncIterableIterator<Awaited<R>>;
  }

  /** Like map, yielding results in completion order. */
  imapUnordered<T, R>(fn: TaskFn<[T], R>, items: Items<T>, opts: MapOptions = {}): AsyncIterableIterator<Awaited<R>> {
    return this.iterate(fn, items, opts, false) as AsyncIterableIterator<Awaited<R>>;
  }

  private iterate(fn: unknown, items: Items<unknown>, opts: MapOptions, ordered: boolean): AsyncIterableIterator<unknown> {
    const c = this.call(fn, ordered ? "pool.imap" : "pool.imapUnordered", items, false);
    const call = this.openCall("map", this.parentNow());
    const farm = this.ensure();
    const tagged = { ...opts, tag: call.tag };
    const it = ordered ? farm.imap(c.task, c.items, tagged) : farm.imapUnordered(c.task, c.items, tagged);
    const decode = c.decode;
    const finish = () => this.closeCall(call);
    const wrapped: AsyncIterableIterator<unknown> = {
      next: async () => {
        try {
          const r = await it.next();
          if (r.done) finish();
          else if (decode) r.value = decode(r.value);
          return r;
        } catch (e) {
          finish();
          throw this.cellError(e);
        }
      },
      return: async (v?: unknown) => {
        finish();
        return it.return ? it.return(v) : { done: true, value: v };
      },
      [Symbol.asyncIterator]() {
        return wrapped;
      },
    };
    return wrapped;
  }

  /** fn(...args) on one worker. */
  async apply<A extends unknown[], R>(fn: TaskFn<A, R>, args?: A, opts: ApplyOptions = {}): Promise<Awaited<R>> {
    const c = this.call(fn, "pool.apply", [args ?? []], true);
    const sent = args === undefined && !c.decode ? undefined : ((c.items as unknown[][])[0] as A);
    const result = await this.tracked("apply", this.parentNow(), (farm, tag) => farm.apply(c.task as TaskFn<A, R>, sent, { ...opts, tag }));
    return (c.decode ? c.decode(result) : result) as Awaited<R>;
  }

  /** fn(...args) on one worker; the handle can be awaited, polled and cancelled. */
  applyAsync<A extends unknown[], R>(fn: TaskFn<A, R>, args?: A, opts: ApplyOptions = {}): AsyncResult<Awaited<R>> {
    const c = this.call(fn, "pool.applyAsync", [args ?? []], true);
    const sent = args === undefined && !c.decode ? undefined : ((c.items as unknown[][])[0] as A);
    let handle!: AsyncResult<Awaited<R>>;
    void this.tracked("apply", this.parentNow(), (farm, tag) => {
      handle = farm.applyAsync(c.task as TaskFn<A, R>, sent, { ...opts, tag });
      // (the handle's own awaiters get the same error, marked: this catch runs before theirs)
      return handle.get().catch((e) => { this.cellError(e); });
    });
    if (!c.decode) return handle;
    const decode = c.decode;
    const farmHandle = handle;
    return new AsyncResult(farmHandle.get().then((v) => decode(v) as Awaited<R>), () => farmHandle.cancel());
  }

  /** fn(...args) once on every worker (or the listed ones); each worker's value in worker-id order. */
  async run<R>(fn: TaskFn<any[], R>, opts: RunOptions = {}): Promise<Awaited<R>[]> {
    const c = this.call(fn, "pool.run", [opts.args ?? []], true);
    const args = opts.args === undefined && !c.decode ? undefined : (c.items as unknown[][])[0];
    const values = await this.tracked("run", this.parentNow(), (farm, tag) => farm.run(c.task as TaskFn<any[], R>, { ...opts, args, tag }));
    return (c.decode ? values.map(c.decode) : values) as Awaited<R>[];
  }

  /** Sets globals on every worker (and on workers started later). */
  push(bindings: Record<string, unknown>): Promise<void> {
    return this.tracked("push", this.parentNow(), (farm) => farm.push(bindings));
  }

  /** Each worker's value of `globalThis[name]`, in worker-id order (instances of notebook classes keep their class). */
  async pull<T = unknown>(name: string): Promise<T[]> {
    const read = classAwareRead({ fn: `() => globalThis[${JSON.stringify(name)}]` }, { bindings: this.session.bindings, scope: globalThis as Record<string, unknown> });
    const values = await this.tracked("run", this.parentNow(), (farm, tag) => farm.run(read.task, { tag }));
    return (read.decode ? values.map(read.decode) : values) as T[];
  }

  // ------------------------------------------------------------------ event routing

  /** The call an event belongs to: the one it is tagged with, else (untagged lines) the newest running call. */
  private ownerOf(tag: unknown): CallRecord | undefined {
    if (typeof tag === "symbol") return this.byTag.get(tag);
    return [...this.calls].pop();
  }

  private onTask(ev: TaskEvent): void {
    if (typeof ev.tag === "symbol") this.byTag.get(ev.tag)?.observer?.task?.(ev);
  }

  private onOutput(ev: OutputEvent): void {
    const owner = this.ownerOf(ev.tag);
    if (owner?.observer?.output) {
      owner.observer.output(ev);
      return;
    }
    const parent = owner?.parent ?? this.lastParent;
    const text = ev.lines.map((l) => `[worker ${ev.workerId}] ${l}`).join("\n") + "\n";
    if (parent) this.session.emit({ type: "stream", parent, name: ev.stream, text });
    else process[ev.stream].write(text);
  }

  private onWorker(ev: WorkerEvent): void {
    if (ev.type === "online") this.workerGlobals.online(ev.workerId);
    if (ev.type !== "exit" || ev.expected) return;
    for (const c of this.calls) c.observer?.workerExit?.(ev);
  }
}

/** The session's notebook pool (one per session), created on first use. */
export function createNotebookPool(session: MagicSession): NotebookPool {
  let p = bySession.get(session);
  if (!p) {
    p = new NotebookPool(session);
    bySession.set(session, p);
  }
  return p;
}

/** Stops the running tasks of every notebook pool (the executor calls this on interrupt). */
export async function interruptNotebookPools(): Promise<void> {
  await Promise.all([...pools].map((p) => p.interrupt().catch(() => undefined)));
}
