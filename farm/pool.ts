/**
 * Pool: a persistent farm of workers (child processes by default, threads on request) that run
 * shipped task code. It schedules jobs onto workers, keeps results in input order, survives and
 * replaces dead workers, stops running code on interrupt, and reports output and progress as
 * events. It knows nothing about Jupyter.
 */
import { AsyncQueue } from "./async-queue.js";
import { AsyncResult } from "./async-result.js";
import { CancelledError, InterruptedError, PoolBrokenError, PoolClosedError } from "./errors.js";
import type { PoolStatus, WorkerStatus } from "./events.js";
import { numericItem } from "./chunking.js";
import { MapGroup } from "./map-group.js";
import {
  checkPoolOptions, shown, toArray, type ApplyOptions, type Items, type MapOptions, type PoolOptions, type RunOptions,
} from "./pool-options.js";
import { isQueuedMap } from "./job-queue.js";
import { PoolMessages } from "./pool-messages.js";
import type { ChunkOwner } from "./pool-scheduler.js";
import { prepareCode, type TaskFn } from "./task-code.js";
import type { Job, JobOwner } from "./worker-slot.js";

export type { ApplyOptions, MapOptions, PoolOptions, PoolOutput, RunOptions } from "./pool-options.js";

/**
 * The public face of the pool. Its layers, bottom up: pool-workers.ts (worker slots and their
 * lifecycle), pool-scheduler.ts (queueing, dispatching, settling and stopping jobs),
 * pool-messages.ts (what workers report); this file holds the calls a user makes.
 */
export class Pool extends PoolMessages implements AsyncDisposable {
  constructor(opts: PoolOptions = {}) {
    const n = checkPoolOptions(opts);
    super(opts, n);
    for (let id = 0; id < n; id++) this.startWorker(id);
    this.updateRef();
  }

  /** Number of workers the pool keeps. */
  get size(): number { return this.targetSize; }

  get isClosed(): boolean { return this.closed; }

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
      let unbind = () => {};
      const owner: JobOwner = {
        ok: (_j, v) => { unbind(); resolve(v as Awaited<R>); },
        fail: (_j, e) => { unbind(); reject(e); },
      };
      job = this.makeJob("apply", code, { kind: "call", args: args ?? [] }, null, null, owner, null, opts.timeout);
      job.tag = opts.tag;
      if (opts.signal) unbind = this.bindSignal(opts.signal, () => [job!], (e) => owner.fail(job!, e));
      this.enqueue(job);
    });
    return new AsyncResult(promise, async () => {
      // like Python's Future.cancel(): a task that already finished is not cancelled (false)
      if (!job || job.settled) return false;
      await this.stopJobs([job], "cancel", () => new CancelledError("the task was cancelled"));
      return true;
    });
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
      let unbind = () => {};
      const jobs: Job[] = [];
      const owner: JobOwner = {
        ok: (j, v) => {
          results[targets.indexOf(j.pinned!)] = v;
          if (--left === 0 && !failed) { unbind(); resolve(results); }
        },
        fail: (_j, e) => {
          if (failed) return;
          failed = true;
          unbind();
          reject(e);
        },
      };
      for (const id of targets) {
        const j = this.makeJob("run", code, { kind: "call", args: opts.args ?? [] }, null, id, owner, null, undefined);
        j.tag = opts.tag;
        jobs.push(j);
      }
      if (opts.signal && targets.length) unbind = this.bindSignal(opts.signal, () => jobs, (e) => owner.fail(jobs[0], e));
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
      !replaced ? "the task was interrupted"
        : j.slot?.killedForStop ? "the task was interrupted; its worker did not stop in time and was replaced"
          : "the task was interrupted; its worker died meanwhile and was replaced",
      { workerId: j.slot?.id, index: this.runningItem(j)?.index, workerReplaced: replaced }));
    const queued: Job[] = [];
    for (const entry of this.queue.takeAll()) {
      if (isQueuedMap(entry)) entry.abort(new InterruptedError("the task was interrupted"));
      else queued.push(entry);
    }
    await Promise.all([stopped, this.stopJobs(queued, "interrupt", () => new InterruptedError("the task was interrupted before it started"))]);
  }

  /** Changes the number of workers: new ids start now, the highest ids retire after their current jobs. */
  async resize(n: number): Promise<void> {
    this.checkOpen("resize");
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`resize(n): n must be a positive integer, got ${shown(n)}`);
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
    for (const entry of this.queue.takeAll()) {
      if (isQueuedMap(entry)) { entry.abort(err()); continue; }
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
        current: cur ? { job: cur.id, kind: cur.kind, range: cur.range, runningMs: now - cur.sentAt, item: this.publishedItem(cur) } : null,
      });
    }
    let queued = 0;
    for (const e of this.queue) queued += isQueuedMap(e) ? Math.ceil((e.source.n - e.source.taken) / Math.max(1, e.source.chunk)) : 1;
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
        slot.send({ t: "stats" });
      }));
    }
    await Promise.all(waits);
    return this.status();
  }

  private mapLike(fn: TaskFn, items: Items<unknown>, star: boolean, opts: MapOptions): Promise<unknown[]> {
    return new Promise<unknown[]>((resolve, reject) => {
      this.checkOpen(star ? "starmap" : "map");
      const arr = toArray(items, star ? "starmap" : "map");
      const results = new Array(arr.length);
      const jobs = new Set<Job>();
      let unbind = () => {};
      const group = this.startGroup(fn, arr, star, opts, {
        chunk: (start, values) => {
          if (values instanceof Float64Array) for (let k = 0; k < values.length; k++) results[start + k] = numericItem(values[k]);
          else for (let k = 0; k < values.length; k++) results[start + k] = values[k];
        },
        done: () => { unbind(); resolve(results); },
      }, jobs, (e) => { unbind(); reject(e); });
      if (opts.signal) unbind = this.bindSignal(opts.signal, () => [...jobs], (e) => { group.failed = true; unbind(); reject(e); });
    });
  }

  private iterate(fn: TaskFn, items: Items<unknown>, ordered: boolean, opts: MapOptions): AsyncIterableIterator<unknown> {
    let group: MapGroup | null = null;
    const jobs = new Set<Job>();
    let unbind = () => {};
    const q = new AsyncQueue<unknown>(() => {
      if (group) group.failed = true;
      void this.stopJobs([...jobs], "cancel", () => new CancelledError("the iteration was ended early"));
    }, () => unbind());
    try {
      this.checkOpen(ordered ? "imap" : "imapUnordered");
      const arr = toArray(items, ordered ? "imap" : "imapUnordered");
      const pending = new Map<number, ArrayLike<unknown>>();
      let nextOut = 0;
      group = this.startGroup(fn, arr, false, opts, {
        chunk: (start, raw) => {
          const values = raw instanceof Float64Array ? Array.from(raw, numericItem) : raw;
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
      if (opts.signal) unbind = this.bindSignal(opts.signal, () => [...jobs], (e) => { g.failed = true; q.fail(e); });
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
    if (cs !== undefined && !(Number.isInteger(cs) && cs >= 1)) throw new RangeError(`chunksize must be a positive integer, got ${shown(cs)}`);
    for (const k of ["retries", "timeout"] as const) {
      const v = opts[k];
      if (v !== undefined && !(Number.isInteger(v) && v >= (k === "retries" ? 0 : 1))) {
        throw new RangeError(`${k} must be a whole number >= ${k === "retries" ? 0 : 1}, got ${shown(v)}`);
      }
    }
    const code = prepareCode(fn);
    const timeout = opts.timeout ?? this.opts.taskTimeout;
    const fixed = cs ?? (timeout !== undefined ? 1 : undefined);
    /** The call fails: the other chunks of this call are no longer wanted. */
    const abort = (e: Error) => {
      if (group.failed) return;
      group.failed = true;
      void this.stopJobs([...jobs], "cancel", () => e);
      reject(e);
    };
    const chunkJob = (start: number, items: unknown[] | Float64Array): Job => {
      const j = this.makeJob("map", code, { kind: "map", items, star, start }, [start, start + items.length], null, owner, group, timeout);
      j.retries = opts.retries;
      j.tag = opts.tag;
      jobs.add(j);
      return j;
    };
    const owner: ChunkOwner = {
      ok: (j, v, ms) => {
        jobs.delete(j);
        group.chunkDone(j.range![0], v as ArrayLike<unknown>, ms);
      },
      fail: (j, e) => {
        jobs.delete(j);
        abort(e);
      },
      splitChunk: (j, cuts) => {
        jobs.delete(j);
        const b = j.body as { items: unknown[] | Float64Array; start: number };
        const bounds = [b.start, ...cuts, b.start + b.items.length];
        const parts: Job[] = [];
        for (let k = 0; k + 1 < bounds.length; k++) {
          parts.push(chunkJob(bounds[k], b.items.slice(bounds[k] - b.start, bounds[k + 1] - b.start)));
        }
        return parts;
      },
    };
    const group: MapGroup = new MapGroup(arr, this.targetSize, star, fixed, sink);
    const make = (): Job => {
      const { start, items } = group.take();
      return chunkJob(start, items);
    };
    if (group.n > 0) {
      this.queue.push({ source: group, make, abort });
      this.updateRef();
      this.pump();
    }
    return group;
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
}
