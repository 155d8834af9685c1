/**
 * Pool: a persistent farm of workers (child processes by default, threads on request) that run
 * shipped task code. It schedules jobs onto workers, keeps results in input order, survives and
 * replaces dead workers, stops running code on interrupt, and reports output and progress as
 * events. It knows nothing about Jupyter.
 */
import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import {
  CancelledError, InterruptedError, PoolBrokenError, PoolClosedError, RemoteError, TaskTimeoutError, WorkerCrashedError,
} from "./errors.js";
import type { JobKind, OutputEvent, PoolEvents, PoolStatus, TaskEvent, WorkerStatus } from "./events.js";
import { encodeHandles, serveHandleCall, decodeHandles } from "./handles.js";
import { MapGroup } from "./map-group.js";
import type { JobBody, JobMessage, WorkerToParent } from "./messages.js";
import { spawnProcessWorker } from "./process-transport.js";
import { prepareCode, type PreparedCode, type TaskFn, type WireBundle } from "./task-code.js";
import { spawnThreadWorker } from "./thread-transport.js";
import type { TransportFactory, WorkerExit } from "./transport.js";
import { serializeError } from "./worker/serialize-error.js";
import { Slot, type Job, type JobOwner, type StopReason } from "./worker-slot.js";
import { AsyncQueue } from "./async-queue.js";
import { AsyncResult } from "./async-result.js";

export interface PoolOptions {
  /** Number of workers (default: the machine's available parallelism). */
  workers?: number;
  /** Worker threads instead of child processes (shared memory; less isolation). */
  threads?: boolean;
  /** Runs once in every worker when it starts (also in replacements), before any task. */
  initializer?: TaskFn;
  initargs?: unknown[];
  /** Replace a worker after it ran this many jobs (a map chunk is one job). */
  maxTasksPerWorker?: number;
  /** Stop a job running longer than this (ms); it rejects with TaskTimeoutError. map then sends items one by one unless chunksize is given. */
  taskTimeout?: number;
  /** How often a job whose worker died is tried again on another worker (default 0). */
  retries?: number;
  /** Extra environment variables for the workers. */
  env?: Record<string, string | undefined>;
  /** Node options for the workers (default none, e.g. ["--max-old-space-size=512"]). */
  execArgv?: string[];
  /** How long an interrupted worker gets to stop before it is killed and replaced (ms, default 1000). */
  interruptGrace?: number;
  /** Memory limits for thread workers. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
  /** Custom transport (e.g. workers on other hosts). */
  transport?: TransportFactory;
}

export interface MapOptions {
  /** Items per message; automatic when omitted. */
  chunksize?: number;
  signal?: AbortSignal;
}

export interface ApplyOptions { signal?: AbortSignal; timeout?: number }

export interface RunOptions {
  /** Worker ids to run on (default: every worker). */
  targets?: number[] | number;
  args?: unknown[];
  signal?: AbortSignal;
}

const MAX_START_FAILURES = 3;

type Items<T> = readonly T[] | Iterable<T> | ArrayLike<T>;

function toArray<T>(items: Items<T>, what: string): readonly T[] | ArrayLike<number> {
  if (items instanceof DataView) throw new TypeError(`${what}: items must be an array, a typed array or an iterable; a DataView is none of these (wrap its buffer in a typed array)`);
  if (Array.isArray(items) || ArrayBuffer.isView(items)) return items as readonly T[];
  if (items !== null && typeof items === "object" && Symbol.iterator in items) return Array.from(items as Iterable<T>);
  if (items !== null && typeof items === "object" && typeof (items as ArrayLike<T>).length === "number") return Array.from(items as ArrayLike<T>);
  throw new TypeError(`${what}: items must be an array, a typed array or an iterable; got ${items === null ? "null" : typeof items}`);
}

function abortError(signal: AbortSignal): Error {
  const r = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(r === undefined ? "the operation was aborted" : String(r));
  e.name = "AbortError";
  return e;
}

export class Pool extends EventEmitter<PoolEvents> implements AsyncDisposable {
  readonly threads: boolean;
  private readonly opts: PoolOptions;
  private readonly spawn: TransportFactory;
  private slots: (Slot | null)[] = [];
  private stats: { tasksDone: number; itemsDone: number; busyMs: number; restarts: number; startFailures: number; bundlesSent: number }[] = [];
  private queue: (Job | { source: MapGroup; make: () => Job; abort: (e: Error) => void })[] = [];
  private nextJobId = 1;
  private initCode: PreparedCode | null;
  private pushed = new Map<string, unknown>();
  private closed = false;
  private terminated = false;
  private brokenReason: string | null = null;
  private idleWaiters: (() => void)[] = [];
  private targetSize: number;
  private referenced = true;

  constructor(opts: PoolOptions = {}) {
    super();
    if (typeof opts !== "object" || opts === null) throw new TypeError("new Pool(options): options must be an object");
    const n = opts.workers ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Pool: workers must be a positive integer, got ${String(opts.workers)}`);
    for (const k of ["maxTasksPerWorker", "taskTimeout", "interruptGrace"] as const) {
      const v = opts[k];
      if (v !== undefined && !(typeof v === "number" && v > 0)) throw new RangeError(`Pool: ${k} must be a positive number of ${k === "maxTasksPerWorker" ? "jobs" : "ms"}, got ${String(v)}`);
    }
    if (opts.retries !== undefined && !(Number.isInteger(opts.retries) && opts.retries >= 0)) {
      throw new RangeError(`Pool: retries must be a whole number >= 0, got ${String(opts.retries)}`);
    }
    this.opts = { ...opts };
    this.threads = opts.threads === true;
    this.spawn = opts.transport ?? (this.threads ? spawnThreadWorker : spawnProcessWorker);
    this.initCode = opts.initializer !== undefined ? prepareCode(opts.initializer, "initializer") : null;
    this.targetSize = n;
    for (let id = 0; id < n; id++) this.startWorker(id);
    this.updateRef();
  }

  /** Number of workers the pool keeps. */
  get size(): number { return this.targetSize; }

  get isClosed(): boolean { return this.closed; }

  // ------------------------------------------------------------------ public API: running tasks

  /** fn(item) for every item, on the workers; results in input order. */
  map<T, R>(fn: TaskFn<[T], R>, items: Items<T>, opts: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.mapLike(fn, items, false, opts) as Promise<Awaited<R>[]>;
  }

  /** fn(...args) for every args array in items; results in input order. */
  starmap<A extends unknown[], R>(fn: TaskFn<A, R>, items: Items<A>, opts: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.mapLike(fn, items, true, opts) as Promise<Awaited<R>[]>;
  }

  /** Like map, but yields results in input order as soon as they are available. */
  imap<T, R>(fn: TaskFn<[T], R>, items: Items<T>, opts: MapOptions = {}): AsyncIterableIterator<Awaited<R>> {
    return this.iterate(fn, items, true, opts) as AsyncIterableIterator<Awaited<R>>;
  }

  /** Like map, but yields results in completion order. */
  imapUnordered<T, R>(fn: TaskFn<[T], R>, items: Items<T>, opts: MapOptions = {}): AsyncIterableIterator<Awaited<R>> {
    return this.iterate(fn, items, false, opts) as AsyncIterableIterator<Awaited<R>>;
  }

  /** fn(...args) on one worker. */
  apply<A extends unknown[], R>(fn: TaskFn<A, R>, args?: A, opts: ApplyOptions = {}): Promise<Awaited<R>> {
    return this.applyAsync(fn, args, opts).get();
  }

  /** fn(...args) on one worker; the handle can be awaited, polled (ready()) and cancelled. */
  applyAsync<A extends unknown[], R>(fn: TaskFn<A, R>, args?: A, opts: ApplyOptions = {}): AsyncResult<Awaited<R>> {
    let job: Job | null = null;
    const promise = new Promise<Awaited<R>>((resolve, reject) => {
      this.checkOpen("applyAsync");
      if (args !== undefined && !Array.isArray(args)) throw new TypeError("applyAsync(fn, args): args must be an array of arguments");
      const code = prepareCode(fn);
      const owner: JobOwner = {
        ok: (_j, v) => resolve(v as Awaited<R>),
        fail: (_j, e) => reject(e),
      };
      job = this.makeJob("apply", code, { kind: "call", args: args ?? [] }, null, null, owner, null, opts.timeout);
      if (opts.signal) this.bindSignal(opts.signal, () => [job!], reject);
      this.enqueue(job);
    });
    return new AsyncResult(promise, () => (job ? this.stopJobs([job], "cancel", () => new CancelledError("the task was cancelled")) : Promise.resolve()));
  }

  /**
   * fn(...args) once on every worker (or on the listed ones); resolves with each worker's value in
   * worker-id order. Use it to set up or inspect per-worker state.
   */
  run<R>(fn: TaskFn<any[], R>, opts: RunOptions = {}): Promise<Awaited<R>[]> {
    return new Promise<Awaited<R>[]>((resolve, reject) => {
      this.checkOpen("run");
      const targets = this.targetsOf(opts.targets);
      const code = prepareCode(fn);
      const results = new Array(targets.length);
      let left = targets.length;
      let failed = false;
      const jobs: Job[] = [];
      const owner: JobOwner = {
        ok: (j, v) => { results[targets.indexOf(j.pinned!)] = v; if (--left === 0 && !failed) resolve(results); },
        fail: (_j, e) => {
          if (failed) return;
          failed = true;
          reject(e);
        },
      };
      for (const id of targets) {
        jobs.push(this.makeJob("run", code, { kind: "call", args: opts.args ?? [] }, null, id, owner, null, undefined));
      }
      if (opts.signal) this.bindSignal(opts.signal, () => jobs, (e) => owner.fail(jobs[0], e));
      for (const j of jobs) this.enqueue(j);
      if (targets.length === 0) resolve([]);
    });
  }

  /** Sets globals on every worker (and on workers started later); values are structured clones. */
  push(bindings: Record<string, unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.checkOpen("push");
      if (typeof bindings !== "object" || bindings === null || Array.isArray(bindings)) {
        throw new TypeError("push(bindings): pass an object of { name: value } pairs to define as globals in the workers");
      }
      for (const [name, v] of Object.entries(bindings)) {
        if (typeof v === "function") {
          throw new TypeError(`push: "${name}" is a function; functions travel as code: use run((…) => { globalThis.${name} = … }) or a task's deps`);
        }
      }
      for (const [k, v] of Object.entries(bindings)) this.pushed.set(k, v);
      const targets = this.liveIds();
      let left = targets.length;
      let failed = false;
      const owner: JobOwner = {
        ok: () => { if (--left === 0 && !failed) resolve(); },
        fail: (_j, e) => {
          if (failed) return;
          failed = true;
          // values that could not be sent are not replayed to later workers either
          for (const k of Object.keys(bindings)) if (this.pushed.get(k) === bindings[k]) this.pushed.delete(k);
          reject(e);
        },
      };
      for (const id of targets) this.enqueue(this.makeJob("push", null, { kind: "push", bindings }, null, id, owner, null, undefined));
      if (targets.length === 0) resolve();
    });
  }

  // ------------------------------------------------------------------ public API: control

  /**
   * Stops everything the pool is doing: queued tasks are dropped and running ones stopped (their
   * workers keep their state unless they do not stop within the grace period, in which case they
   * are killed and replaced). Every affected task rejects with InterruptedError. Resolves when
   * every worker is free again.
   */
  async interrupt(): Promise<void> {
    const running: Job[] = [];
    for (const s of this.slots) if (s) for (const j of s.inflight) if (j.kind !== "init") running.push(j);
    const stopped = this.stopJobs(running, "interrupt", (j, replaced) => new InterruptedError(
      replaced ? "the task was interrupted; its worker did not stop in time and was replaced" : "the task was interrupted",
      { workerId: j.slot?.id, index: j.range?.[0], workerReplaced: replaced }));
    const queued: Job[] = [];
    for (const entry of this.queue.splice(0)) {
      if ("source" in entry) entry.abort(new InterruptedError("the task was interrupted"));
      else queued.push(entry);
    }
    await Promise.all([stopped, this.stopJobs(queued, "interrupt", () => new InterruptedError("the task was interrupted before it started"))]);
  }

  /** Changes the number of workers: new ids start now, the highest ids retire after their current jobs. */
  async resize(n: number): Promise<void> {
    this.checkOpen("resize");
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`resize(n): n must be a positive integer, got ${String(n)}`);
    const old = this.targetSize;
    this.targetSize = n;
    for (let id = old; id < n; id++) this.startWorker(id);
    const retiring: Promise<void>[] = [];
    for (let id = n; id < old; id++) {
      const s = this.slots[id];
      if (s) retiring.push(this.retire(s));
    }
    this.slots.length = Math.max(n, this.slots.length);
    this.pump();
    await Promise.all(retiring);
    this.slots.length = n;
    this.stats.length = n;
  }

  /** Accepts no new tasks; queued and running ones still finish. */
  close(): void {
    this.closed = true;
    this.updateRef();
  }

  /** Waits for all queued and running tasks, then stops the workers (closes the pool first). */
  async join(): Promise<void> {
    this.close();
    await this.whenIdle();
    await Promise.all(this.slots.map((s) => (s ? this.retire(s) : undefined)));
  }

  /** Stops at once: pending tasks reject with PoolClosedError and workers are killed. */
  async terminate(): Promise<void> {
    this.closed = true;
    this.terminated = true;
    const err = () => new PoolClosedError("the pool was terminated before the task finished");
    for (const entry of this.queue.splice(0)) {
      if ("source" in entry) { entry.abort(err()); continue; }
      this.settleFail(entry, err());
    }
    const exits: Promise<void>[] = [];
    for (const s of this.slots) {
      if (!s) continue;
      for (const j of s.inflight) this.settleFail(j, err());
      s.expectedExit = true;
      exits.push(this.exitOf(s));
      this.setRef(s, true);
      s.transport.kill();
    }
    await Promise.all(exits);
    this.resolveIdle();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.terminated) return;
    await this.join();
  }

  /** A snapshot for `%pool status`: per worker id, pid/threadId, state, counters and memory. */
  status(): PoolStatus {
    const now = Date.now();
    const workers: WorkerStatus[] = [];
    for (let id = 0; id < this.slots.length; id++) {
      const s = this.slots[id];
      const st = this.stats[id];
      if (!s || !st) continue;
      const cur = s.inflight[0];
      workers.push({
        id,
        kind: s.transport.kind,
        pid: s.transport.pid,
        threadId: s.transport.threadId,
        state: s.state === "ready" ? (s.inflight.length ? "busy" : "idle") : s.state,
        tasksDone: st.tasksDone,
        itemsDone: st.itemsDone,
        busyMs: st.busyMs,
        rss: s.rss,
        restarts: st.restarts,
        bundlesSent: st.bundlesSent,
        uptimeMs: now - s.spawnedAt,
        current: cur ? { job: cur.id, kind: cur.kind, range: cur.range, runningMs: now - cur.sentAt } : null,
      });
    }
    let queued = 0;
    for (const e of this.queue) queued += "source" in e ? Math.ceil((e.source.n - e.source.taken) / Math.max(1, e.source.chunk)) : 1;
    return { size: this.targetSize, threads: this.threads, closed: this.closed, broken: this.brokenReason, queuedJobs: queued, workers };
  }

  /** Asks idle workers for fresh memory figures (busy ones keep their last report), then returns status(). */
  async refreshStatus(timeoutMs = 500): Promise<PoolStatus> {
    const waits: Promise<void>[] = [];
    for (const s of this.slots) {
      if (!s || !s.idle) continue;
      waits.push(new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        const slot = s;
        const onStats = (rss: number) => { slot.rss = rss; clearTimeout(t); resolve(); };
        this.statsWaiters.set(slot, [...(this.statsWaiters.get(slot) ?? []), onStats]);
        slot.transport.send({ t: "stats" });
      }));
    }
    await Promise.all(waits);
    return this.status();
  }
  private statsWaiters = new Map<Slot, ((rss: number) => void)[]>();

  // ------------------------------------------------------------------ map machinery

  private mapLike(fn: TaskFn, items: Items<unknown>, star: boolean, opts: MapOptions): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve, reject) => {
      this.checkOpen(star ? "starmap" : "map");
      const arr = toArray(items, star ? "starmap" : "map");
      const results = new Array(arr.length);
      const jobs = new Set<Job>();
      const group = this.startGroup(fn, arr, star, opts, {
        chunk: (start, values) => {
          for (let k = 0; k < values.length; k++) results[start + k] = values[k];
        },
        done: () => resolve(results),
      }, jobs, reject);
      if (opts.signal) this.bindSignal(opts.signal, () => [...jobs], (e) => { group.failed = true; reject(e); });
    });
  }

  private iterate(fn: TaskFn, items: Items<unknown>, ordered: boolean, opts: MapOptions): AsyncIterableIterator<unknown> {
    let group: MapGroup | null = null;
    const jobs = new Set<Job>();
    const q = new AsyncQueue<unknown>(() => {
      if (group) group.failed = true;
      void this.stopJobs([...jobs], "cancel", () => new CancelledError("the iteration was ended early"));
    });
    try {
      this.checkOpen(ordered ? "imap" : "imapUnordered");
      const arr = toArray(items, ordered ? "imap" : "imapUnordered");
      const pending = new Map<number, ArrayLike<unknown>>();
      let nextOut = 0;
      group = this.startGroup(fn, arr, false, opts, {
        chunk: (start, values) => {
          if (!ordered) { for (let k = 0; k < values.length; k++) q.push(values[k]); return; }
          pending.set(start, values);
          for (let v = pending.get(nextOut); v !== undefined; v = pending.get(nextOut)) {
            pending.delete(nextOut);
            for (let k = 0; k < v.length; k++) q.push(v[k]);
            nextOut += v.length;
          }
        },
        done: () => q.end(),
      }, jobs, (e) => q.fail(e));
      const g = group;
      if (opts.signal) this.bindSignal(opts.signal, () => [...jobs], (e) => { g.failed = true; q.fail(e); });
    } catch (e) {
      q.fail(e);
    }
    return q;
  }

  private startGroup(
    fn: TaskFn, arr: readonly unknown[] | ArrayLike<number>, star: boolean, opts: MapOptions,
    sink: { chunk(start: number, values: ArrayLike<unknown>): void; done(): void },
    jobs: Set<Job>, reject: (e: Error) => void,
  ): MapGroup {
    const cs = opts.chunksize;
    if (cs !== undefined && !(Number.isInteger(cs) && cs >= 1)) throw new RangeError(`chunksize must be a positive integer, got ${String(cs)}`);
    const code = prepareCode(fn);
    const fixed = cs ?? (this.opts.taskTimeout !== undefined ? 1 : undefined);
    const owner: JobOwner = {
      ok: (j, v, ms) => {
        jobs.delete(j);
        group.chunkDone(j.range![0], v as ArrayLike<unknown>, ms);
      },
      fail: (j, e) => {
        jobs.delete(j);
        if (group.failed) return;
        group.failed = true;
        // the other chunks of this call are no longer wanted
        void this.stopJobs([...jobs], "cancel", () => e);
        reject(e);
      },
    };
    const group: MapGroup = new MapGroup(arr, this.targetSize, star, fixed, sink);
    const make = (): Job => {
      const { start, items } = group.take();
      const j = this.makeJob("map", code, { kind: "map", items, star, start }, [start, start + items.length], null, owner, group, this.opts.taskTimeout);
      jobs.add(j);
      return j;
    };
    if (group.n > 0) {
      const abort = (e: Error) => {
        if (group.failed) return;
        group.failed = true;
        void this.stopJobs([...jobs], "cancel", () => e);
        reject(e);
      };
      this.queue.push({ source: group, make, abort });
      this.updateRef();
      this.pump();
    }
    return group;
  }

  // ------------------------------------------------------------------ jobs and scheduling

  private makeJob(
    kind: JobKind, code: PreparedCode | null, body: JobBody, range: [number, number] | null, pinned: number | null,
    owner: JobOwner, group: MapGroup | null, timeoutMs: number | undefined,
  ): Job {
    return {
      id: this.nextJobId++, kind, code, body, range, pinned, owner, crashes: 0, triedOn: new Set(), slot: null,
      settled: false, stopping: null, withdrawing: false, offWaiters: [], timeoutMs: timeoutMs ?? this.opts.taskTimeout, timer: null, graceTimer: null, sentAt: 0,
      group,
    };
  }

  private enqueue(job: Job, front = false): void {
    if (front) this.queue.unshift(job);
    else this.queue.push(job);
    this.updateRef();
    this.pump();
  }

  private pickSlot(job: Job | null, prefetchOk: boolean): Slot | null {
    if (job && job.pinned !== null) {
      const s = this.slots[job.pinned];
      return s && s.idle ? s : null;
    }
    let fallback: Slot | null = null;
    for (let id = 0; id < this.targetSize; id++) {
      const s = this.slots[id];
      if (!s || !s.idle) continue;
      if (!job || !job.triedOn.has(id)) return s;
      fallback ??= s;
    }
    if (fallback) return fallback;
    if (!prefetchOk) return null;
    let best: Slot | null = null;
    for (let id = 0; id < this.targetSize; id++) {
      const s = this.slots[id];
      if (!s || s.state !== "ready" || s.inflight.length !== 1) continue;
      const running = s.inflight[0];
      if (running.kind !== "map" || running.stopping) continue;
      best ??= s;
    }
    return best;
  }

  private pump(): void {
    if (this.terminated) return;
    for (let qi = 0; qi < this.queue.length;) {
      const entry = this.queue[qi];
      if ("source" in entry) {
        const g = entry.source;
        if (!g.hasMore) { this.queue.splice(qi, 1); continue; }
        // A chunk is sent ahead to a busy worker, so that it never waits for the parent between
        // chunks (on a loaded machine the parent may take a while to be scheduled). Should another
        // worker go idle while it has not started, it is taken back (rebalance). With a task
        // timeout the clock starts when a job is sent, so then only quick chunks go ahead.
        const per = g.msPerChunk;
        const slot = this.pickSlot(null, this.opts.taskTimeout === undefined || per === null || per < 20);
        if (!slot) { qi++; continue; }
        this.dispatch(entry.make(), slot);
        continue;
      }
      if (entry.settled) { this.queue.splice(qi, 1); continue; }
      const slot = this.pickSlot(entry, false);
      if (!slot) { qi++; continue; }
      this.queue.splice(qi, 1);
      this.dispatch(entry, slot);
    }
    this.rebalance();
    this.maybeIdle();
  }

  /** Takes back map chunks sent ahead to busy workers while other workers have nothing to do. */
  private rebalance(): void {
    let idle = 0;
    let moving = 0;
    for (let id = 0; id < this.targetSize; id++) {
      const s = this.slots[id];
      if (!s) continue;
      if (s.idle) idle++;
      for (const j of s.inflight) if (j.withdrawing) moving++;
    }
    if (idle === 0 || moving >= idle || this.queue.length > 0) return;
    for (let id = 0; id < this.targetSize && moving < idle; id++) {
      const s = this.slots[id];
      if (!s || s.state !== "ready" || s.inflight.length < 2) continue;
      const waiting = s.inflight[s.inflight.length - 1];
      if (waiting.kind !== "map" || waiting.stopping || waiting.withdrawing || waiting.settled) continue;
      // not worth a round trip when chunks are quick and the one running ahead of it is not slow
      const per = waiting.group?.msPerChunk ?? null;
      if (per !== null && per < 20 && Date.now() - s.inflight[0].sentAt <= 2 * per + 1) continue;
      waiting.withdrawing = true;
      moving++;
      s.transport.send({ t: "withdraw", ids: [waiting.id] });
    }
  }

  private encodeFor(slot: Slot, value: unknown): unknown {
    return encodeHandles(value, { sharedMemory: slot.transport.sharedMemory });
  }

  private dispatch(job: Job, slot: Slot): void {
    job.slot = slot;
    job.triedOn.add(slot.id);
    job.sentAt = Date.now();
    slot.inflight.push(job);
    if (job.kind !== "init") slot.jobsSinceSpawn++;
    const msg: JobMessage = { t: "job", id: job.id, body: job.body };
    const transfer: ArrayBuffer[] = [];
    const b = job.body;
    if (b.kind === "call") msg.body = { kind: "call", args: this.encodeFor(slot, b.args) as unknown[] };
    else if (b.kind === "push") msg.body = { kind: "push", bindings: this.encodeFor(slot, b.bindings) as Record<string, unknown> };
    else if (b.items instanceof Float64Array) {
      if (slot.transport.sharedMemory) {
        // the chunk's buffer moves to the thread; keep a copy in case the chunk must be retried
        const copy = b.items.slice();
        msg.body = { ...b, items: copy };
        transfer.push(copy.buffer as ArrayBuffer);
      }
    } else msg.body = { ...b, items: this.encodeFor(slot, b.items) as unknown[] };
    if (job.code) {
      const { hash, bundle } = job.code;
      if (slot.known.has(hash)) msg.code = { hash };
      else {
        msg.code = { hash, bundle: this.encodeBundle(slot, bundle) };
        slot.known.add(hash);
        const st = this.stats[slot.id];
        if (st) st.bundlesSent++;
      }
    }
    if (job.timeoutMs !== undefined) {
      const ms = job.timeoutMs;
      job.timer = setTimeout(() => {
        job.timer = null;
        void this.stopJobs([job], "timeout", (j, replaced) => new TaskTimeoutError(ms, { workerId: j.slot?.id, index: j.range?.[0], workerReplaced: replaced }));
      }, ms);
    }
    try {
      slot.transport.send(msg, transfer);
    } catch (e) {
      // the arguments (or items, bindings, dep values) cannot be cloned: fail this job only
      slot.inflight.splice(slot.inflight.indexOf(job), 1);
      if (msg.code?.bundle) slot.known.delete(msg.code.hash);
      this.clearTimers(job);
      job.slot = null;
      this.settleFail(job, new TypeError(`cannot send the task to worker ${slot.id}: ${(e as Error).message}. ` +
        "Arguments, items, pushed bindings and dependency values must be plain data (structured clone), or tspool handles."));
      return;
    }
    this.notify("task", { phase: "start", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range });
  }

  private encodeBundle(slot: Slot, bundle: WireBundle): WireBundle {
    if (!bundle.deps.some((d) => "value" in d)) return bundle;
    return { ...bundle, deps: bundle.deps.map((d) => ("value" in d ? { name: d.name, value: this.encodeFor(slot, d.value) } : d)) };
  }

  // ------------------------------------------------------------------ settling

  private settleOk(job: Job, value: unknown, ms: number): void {
    if (job.settled) return;
    job.settled = true;
    this.clearTimers(job);
    try {
      job.owner.ok(job, value, ms);
    } catch (e) {
      job.owner.fail(job, e as Error);
    }
  }

  private settleFail(job: Job, e: Error): void {
    if (job.settled) return;
    job.settled = true;
    this.clearTimers(job);
    job.owner.fail(job, e);
  }

  private clearTimers(job: Job): void {
    if (job.timer) { clearTimeout(job.timer); job.timer = null; }
  }

  /**
   * Withdraws jobs: queued ones are dropped, jobs waiting inside a worker are cancelled there,
   * running ones are interrupted (and their worker killed and replaced if it does not stop within
   * the grace period). Resolves when all of them are off their workers.
   */
  private stopJobs(jobs: Job[], reason: StopReason, error: (j: Job, replaced: boolean) => Error): Promise<void> {
    const waits: Promise<void>[] = [];
    const bySlot = new Map<Slot, { running: Job | null; cancel: Job[] }>();
    for (const job of jobs) {
      if (job.settled && !job.slot) continue;
      if (!job.slot) {
        const i = this.queue.indexOf(job);
        if (i >= 0) this.queue.splice(i, 1);
        this.settleFail(job, error(job, false));
        continue;
      }
      if (job.stopping) {
        waits.push(new Promise<void>((resolve) => job.offWaiters.push(resolve)));
        continue;
      }
      const slot = job.slot;
      const settleOnConfirm = reason === "interrupt" || reason === "timeout";
      job.stopping = { reason, error: (replaced) => error(job, replaced), settleOnConfirm };
      if (!settleOnConfirm) this.settleFail(job, error(job, false));
      const e = bySlot.get(slot) ?? { running: null, cancel: [] };
      if (slot.inflight[0] === job) e.running = job;
      else e.cancel.push(job);
      bySlot.set(slot, e);
      waits.push(new Promise<void>((resolve) => job.offWaiters.push(resolve)));
    }
    const grace = this.opts.interruptGrace ?? 1000;
    for (const [slot, { running, cancel }] of bySlot) {
      if (running) {
        slot.transport.send({ t: "interrupt", running: running.id, cancel: cancel.map((j) => j.id) });
        slot.transport.forceInterrupt();
        running.graceTimer = setTimeout(() => {
          running.graceTimer = null;
          if (slot.inflight.includes(running) && slot.state !== "exited") {
            slot.killedForStop = true;
            slot.expectedExit = true;
            slot.transport.kill();
          }
        }, grace);
      } else if (cancel.length) {
        slot.transport.send({ t: "cancel", ids: cancel.map((j) => j.id) });
      }
    }
    return Promise.all(waits).then(() => {});
  }

  /** The job has left its worker (finished, failed, interrupted, cancelled, or the worker died). */
  private offWorker(job: Job, replaced: boolean): void {
    const slot = job.slot;
    if (slot) {
      const i = slot.inflight.indexOf(job);
      if (i >= 0) slot.inflight.splice(i, 1);
    }
    if (job.graceTimer) { clearTimeout(job.graceTimer); job.graceTimer = null; }
    if (job.stopping) {
      this.settleFail(job, job.stopping.error(replaced));
    }
    for (const w of job.offWaiters.splice(0)) w();
  }

  // ------------------------------------------------------------------ worker messages

  private onMessage(slot: Slot, m: WorkerToParent): void {
    switch (m.t) {
      case "ready":
        this.onReady(slot);
        break;
      case "done": {
        const job = slot.inflight.find((j) => j.id === m.id);
        if (!job) break;
        slot.rss = m.rss;
        const st = this.stats[slot.id];
        if (st) {
          st.tasksDone++;
          st.busyMs += m.ms;
          if (job.range) st.itemsDone += job.range[1] - job.range[0];
        }
        this.offWorker(job, false);
        this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, ms: m.ms, outcome: m.ok ? "ok" : "error" });
        if (m.ok) {
          let value = m.value;
          if (!(job.kind === "map" && value instanceof Float64Array)) {
            try {
              value = decodeHandles(value, null);
            } catch (e) {
              // e.g. a handle of a kind this process never loaded: this task fails, the pool carries on
              this.settleFail(job, new TypeError(`the result of the task from worker ${slot.id} cannot be received: ${(e as Error).message}`, { cause: e }));
              this.afterJob(slot);
              break;
            }
          }
          if (job.kind === "map" && job.body.kind === "map" && !(value instanceof Float64Array) && !Array.isArray(value)) {
            this.settleFail(job, new Error("internal: a map chunk came back without a result array"));
          } else this.settleOk(job, value, m.ms);
        } else {
          const index = m.index ?? (job.range ? job.range[0] : undefined);
          this.settleFail(job, new RemoteError(m.error, { workerId: slot.id, pid: slot.transport.pid, index: job.kind === "map" ? index : undefined }));
        }
        this.afterJob(slot);
        break;
      }
      case "withdrawn": {
        const job = slot.inflight.find((j) => j.id === m.id);
        if (!job) break;
        job.withdrawing = false;
        slot.jobsSinceSpawn--;
        this.offWorker(job, false);
        this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, ms: 0, outcome: "moved" });
        if (!job.settled && !job.stopping) {
          job.slot = null;
          this.clearTimers(job);
          this.queue.unshift(job);
        }
        this.afterJob(slot);
        break;
      }
      case "interrupted":
      case "cancelled": {
        const job = slot.inflight.find((j) => j.id === m.id);
        if (!job) break;
        if (m.t === "interrupted") {
          const st = this.stats[slot.id];
          if (st) st.busyMs += m.ms;
        }
        this.offWorker(job, false);
        this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, ms: m.t === "interrupted" ? m.ms : 0, outcome: m.t });
        if (!job.settled) this.settleFail(job, new InterruptedError("the task was stopped", { workerId: slot.id, index: job.range?.[0] }));
        this.afterJob(slot);
        break;
      }
      case "out": {
        const ev: OutputEvent = {
          workerId: slot.id, pid: slot.transport.pid, threadId: slot.transport.threadId, stream: m.stream, text: m.text,
          lines: m.text.slice(0, -1).split("\n"), job: m.job, index: m.index, raw: false,
        };
        if (m.stream === "stderr") slot.noteStderr(m.text);
        this.notify("output", ev);
        break;
      }
      case "hcall": {
        const send = (ok: boolean, value: unknown) => slot.transport.send(ok
          ? { t: "hreply", cid: m.cid, ok: true, value }
          : { t: "hreply", cid: m.cid, ok: false, error: serializeError(value) });
        serveHandleCall(m.kind, m.hid, m.method, m.args, { workerId: slot.id, isThread: slot.transport.sharedMemory, signal: slot.abort.signal })
          .then((v) => send(true, v), (e) => send(false, e))
          .catch((e) => send(false, e)); // the result could not be cloned
        break;
      }
      case "stats": {
        slot.rss = m.rss;
        const ws = this.statsWaiters.get(slot);
        this.statsWaiters.delete(slot);
        for (const w of ws ?? []) w(m.rss);
        break;
      }
    }
  }

  private afterJob(slot: Slot): void {
    if (slot.onDrained && slot.inflight.length === 0) {
      const leave = slot.onDrained;
      slot.onDrained = null;
      leave();
    }
    const max = this.opts.maxTasksPerWorker;
    if (max !== undefined && slot.jobsSinceSpawn >= max && slot.inflight.length === 0 && slot.state === "ready" && !this.closed) {
      void this.retire(slot).then(() => { if (!this.closed && slot.id < this.targetSize) this.startWorker(slot.id, true); });
    }
    this.pump();
  }

  private onReady(slot: Slot): void {
    if (slot.state !== "starting") return;
    slot.state = "ready";
    const st = this.stats[slot.id];
    this.notify("worker", { type: "online", workerId: slot.id, pid: slot.transport.pid, threadId: slot.transport.threadId, restarts: st?.restarts ?? 0 });
    // the initializer, then the bindings pushed so far, before any task
    if (this.initCode) {
      const owner: JobOwner = {
        ok: () => { if (st) st.startFailures = 0; },
        fail: (_j, e) => this.breakPool(`the initializer failed in worker ${slot.id}: ${e.message}`, e),
      };
      this.dispatch(this.makeJob("init", this.initCode, { kind: "call", args: this.opts.initargs ?? [] }, null, slot.id, owner, null, undefined), slot);
    } else if (st) st.startFailures = 0;
    if (this.pushed.size) {
      const owner: JobOwner = { ok: () => {}, fail: () => {} };
      this.dispatch(this.makeJob("init", null, { kind: "push", bindings: Object.fromEntries(this.pushed) }, null, slot.id, owner, null, undefined), slot);
    }
    this.pump();
  }

  // ------------------------------------------------------------------ worker lifecycle

  private startWorker(id: number, replacing = false): void {
    if (!this.stats[id]) this.stats[id] = { tasksDone: 0, itemsDone: 0, busyMs: 0, restarts: 0, startFailures: 0, bundlesSent: 0 };
    else if (replacing) this.stats[id].restarts++;
    const transport = this.spawn({
      workerId: id, env: this.opts.env, execArgv: this.opts.execArgv, resourceLimits: this.opts.resourceLimits,
    });
    const slot = new Slot(id, transport);
    this.slots[id] = slot;
    transport.onMessage((m) => this.onMessage(slot, m));
    transport.onRawOutput((stream, text) => {
      if (stream === "stderr") slot.noteStderr(text);
      const whole = slot.rawLines(stream, text);
      if (whole) this.emitRaw(slot, stream, whole);
    });
    transport.onExit((e) => this.onExit(slot, e));
    if (!this.referenced) this.setRef(slot, false);
  }

  private emitRaw(slot: Slot, stream: "stdout" | "stderr", text: string): void {
    const cur = slot.inflight[0];
    this.notify("output", {
      workerId: slot.id, pid: slot.transport.pid, threadId: slot.transport.threadId, stream, text,
      lines: text.slice(0, -1).split("\n"), job: cur?.id ?? null, index: null, raw: true,
    });
  }

  private exitWaiters = new Map<Slot, (() => void)[]>();
  private exitOf(slot: Slot): Promise<void> {
    if (slot.state === "exited") return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.set(slot, [...(this.exitWaiters.get(slot) ?? []), resolve]));
  }

  /** Asks a worker to finish and exit (kills it if it does not within 2 s). */
  private retire(slot: Slot): Promise<void> {
    if (slot.state === "exited") return Promise.resolve();
    slot.expectedExit = true;
    const done = this.exitOf(slot);
    if (slot.state !== "stopping") {
      slot.state = "stopping"; // takes no new jobs from now on
      this.setRef(slot, true);
      const leave = () => {
        slot.transport.send({ t: "exit" });
        const t = setTimeout(() => slot.transport.kill(), 2000);
        void done.then(() => clearTimeout(t));
      };
      // the jobs it already has finish first
      if (slot.inflight.length === 0) leave();
      else slot.onDrained = leave;
    }
    return done;
  }

  private onExit(slot: Slot, e: WorkerExit): void {
    const wasStarting = slot.state === "starting";
    slot.state = "exited";
    slot.abort.abort(new Error(`worker ${slot.id} exited`));
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = slot.rawLines(stream, "", true);
      if (rest) this.emitRaw(slot, stream, rest);
    }
    const expected = slot.expectedExit;
    this.notify("worker", { type: "exit", workerId: slot.id, pid: slot.transport.pid, threadId: slot.transport.threadId, exitCode: e.code, signal: e.signal, expected });
    for (const w of this.exitWaiters.get(slot) ?? []) w();
    this.exitWaiters.delete(slot);
    for (const w of this.statsWaiters.get(slot) ?? []) w(slot.rss ?? 0);
    this.statsWaiters.delete(slot);

    const jobs = slot.inflight.splice(0);
    const retries = this.opts.retries ?? 0;
    if (e.error) slot.noteStderr(e.error);
    const tail = slot.crashReport();
    jobs.forEach((job, k) => {
      if (job.graceTimer) { clearTimeout(job.graceTimer); job.graceTimer = null; }
      const running = k === 0;
      if (job.stopping) {
        this.settleFail(job, job.stopping.error(running && slot.killedForStop));
        for (const w of job.offWaiters.splice(0)) w();
        return;
      }
      if (job.settled) return;
      job.slot = null;
      if (!running) { this.queue.unshift(job); return; } // never started: just send it elsewhere
      job.crashes++;
      if (!this.terminated) {
        this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, outcome: "crashed" });
      }
      if (job.pinned === null && job.crashes <= retries && !this.terminated && !this.brokenReason) {
        this.clearTimers(job);
        this.queue.unshift(job);
        return;
      }
      const err = new WorkerCrashedError({
        workerId: slot.id, pid: slot.transport.kind === "process" ? slot.transport.pid : undefined,
        threadId: slot.transport.kind === "thread" ? slot.transport.threadId : undefined,
        exitCode: e.code, signal: e.signal, range: job.range ?? undefined, attempts: job.crashes, stderrTail: tail,
      });
      if (job.kind === "init") this.breakPool(`worker ${slot.id} died while running the initializer`, err);
      else this.settleFail(job, err);
    });

    const st = this.stats[slot.id];
    const stillWanted = !this.terminated && !this.brokenReason && slot.id < this.targetSize && this.slots[slot.id] === slot;
    if (stillWanted && (!expected || slot.killedForStop)) {
      if (wasStarting && st) {
        st.startFailures++;
        if (st.startFailures >= MAX_START_FAILURES) {
          this.breakPool(`worker ${slot.id} exited ${MAX_START_FAILURES} times while starting (last: ${e.signal ?? `code ${e.code}`})` +
            (tail ? `; its stderr:\n${tail}` : ""), null);
          return;
        }
      }
      if (!this.closed || this.hasWork()) this.startWorker(slot.id, true);
    }
    this.pump();
  }

  private breakPool(reason: string, cause: Error | null): void {
    if (this.brokenReason) return;
    this.brokenReason = reason;
    this.closed = true;
    const err = () => new PoolBrokenError(`the pool cannot run tasks: ${reason}`, cause ? { cause } : undefined);
    for (const entry of this.queue.splice(0)) {
      if ("source" in entry) { entry.abort(err()); continue; }
      this.settleFail(entry, err());
    }
    for (const s of this.slots) {
      if (!s) continue;
      for (const j of s.inflight) this.settleFail(j, err());
    }
    // the workers are of no use any more
    for (const s of this.slots) if (s && s.state !== "exited") { s.expectedExit = true; s.transport.kill(); }
    this.resolveIdle();
  }

  // ------------------------------------------------------------------ helpers

  /** Emits an event; a listener that throws gets a warning instead of breaking the pool's bookkeeping. */
  private notify<K extends keyof PoolEvents>(event: K, ...args: PoolEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (e) {
      process.emitWarning(`a listener of the pool's "${event}" event threw; the pool carries on: ${e instanceof Error ? e.stack : String(e)}`, "TspoolListenerWarning");
    }
  }

  private checkOpen(what: string): void {
    if (this.brokenReason) throw new PoolBrokenError(`${what}: the pool cannot run tasks: ${this.brokenReason}`);
    if (this.closed) throw new PoolClosedError(`${what}: the pool is closed (close(), join() or terminate() was called); create a new Pool`);
  }

  private targetsOf(t: number[] | number | undefined): number[] {
    if (t === undefined) return this.liveIds();
    const list = Array.isArray(t) ? t : [t];
    for (const id of list) {
      if (!Number.isInteger(id) || id < 0 || id >= this.targetSize) {
        throw new RangeError(`run: target ${String(id)} is not a worker id; this pool has workers 0..${this.targetSize - 1}`);
      }
    }
    return [...new Set(list)].sort((a, b) => a - b);
  }

  private liveIds(): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.targetSize; id++) ids.push(id);
    return ids;
  }

  private bindSignal(signal: AbortSignal, jobs: () => Job[], fail: (e: Error) => void): void {
    const onAbort = () => {
      const e = abortError(signal);
      fail(e);
      void this.stopJobs(jobs(), "abort", () => e);
      this.pump();
    };
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener("abort", onAbort, { once: true });
  }

  private hasWork(): boolean {
    if (this.queue.length) return true;
    for (const s of this.slots) if (s && s.inflight.some((j) => j.kind !== "init")) return true;
    return false;
  }

  private whenIdle(): Promise<void> {
    if (!this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private maybeIdle(): void {
    if (!this.hasWork()) this.resolveIdle();
    this.updateRef();
  }

  private resolveIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Workers keep the program alive only while there is work (an idle pool does not block exit). */
  private updateRef(): void {
    const want = this.hasWork() || this.slots.some((s) => s && s.state === "stopping");
    if (want === this.referenced) return;
    this.referenced = want;
    for (const s of this.slots) if (s) this.setRef(s, want);
  }

  private setRef(slot: Slot, on: boolean): void {
    slot.transport.setRef?.(on);
  }
}
