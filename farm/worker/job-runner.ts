/**
 * Runs the jobs a worker receives, one at a time and in order. A map chunk runs its function in a
 * tight loop and returns numbers as one Float64Array when it can. Interrupts either stop a job
 * cooperatively (the worker is free: it was awaiting) or arrive after the helper thread terminated
 * the running synchronous code; either way the job is reported as interrupted exactly once.
 */
import { internalSetImmediate } from "./interruptible-timers.js";
import { serializeError } from "./serialize-error.js";
import { InterruptedError } from "../errors.js";
import type { CodeCache } from "./code-cache.js";
import type { OutputCapture, OutputTag } from "./output-capture.js";
import type { JobMessage, WorkerToParent } from "../messages.js";
import { encodeHandles, type WorkerEnv } from "../handles.js";
import { decodeInWorker } from "./handle-kinds.js";
import { numericItem } from "../chunking.js";
import { beginChunk, endChunk, ITEM_INDEX, readCurrentItem } from "../current-item.js";

export interface Channel {
  send(msg: WorkerToParent, transfer?: ArrayBuffer[]): void;
  isThread: boolean;
}

interface Running {
  id: number;
  started: number;
  reported: boolean;
  index: number | null;
  /** The job's AbortSignal source, made when somebody first asks for it. */
  controller: AbortController | null;
  /** Why the job was stopped (interrupt, cancel, timeout), once it was. */
  stopped: Error | null;
}

type AnyFn = (...args: unknown[]) => unknown;

// Resident memory, re-read at most every 100 ms (reading it costs a system call and a file read).
let rssValue = 0;
let rssAt = -Infinity;
function rss(): number {
  const t = performance.now();
  if (t - rssAt > 100) { rssValue = process.memoryUsage.rss(); rssAt = t; }
  return rssValue;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as PromiseLike<unknown>).then === "function";
}

/** The answer for a job that was stopped: how long it ran, and the map item it was on. */
function interrupted(cur: Running): WorkerToParent {
  const msg: Extract<WorkerToParent, { t: "interrupted" }> = { t: "interrupted", id: cur.id, ms: performance.now() - cur.started };
  if (cur.index !== null) msg.index = cur.index;
  return msg;
}

export class JobRunner {
  private queue: JobMessage[] = [];
  private current: Running | null = null;
  private pumpScheduled = false;
  /** Returns true while new jobs must wait (an interrupt is on its way on the IPC channel). */
  gate: () => boolean = () => false;
  /** Returns true if the helper terminated execution since the last call. */
  terminatedSinceLastCheck: () => boolean = () => false;
  /** Called when a job has been answered: `stopped` if it was interrupted, cancelled or timed out. */
  onJobEnd: (job: number, stopped: boolean) => void = () => {};

  constructor(
    private readonly ch: Channel,
    private readonly cache: CodeCache,
    private readonly output: OutputCapture,
    private readonly env: WorkerEnv,
    /** Where the map item running is published (see farm/current-item.ts). */
    private readonly itemWords: Int32Array,
  ) {}

  /**
   * The AbortSignal of the job running now (undefined between jobs). It aborts, with an
   * InterruptedError, when that job is interrupted, cancelled or times out; a job that finishes
   * normally never aborts it. Jobs run one at a time, so "now" is the job whose code runs, except
   * for leftovers of a job that was already stopped: those must keep the signal they took at the
   * start. (Async context tracking would attribute leftovers correctly, but Node 20's async hooks
   * crash the process when an interrupt terminates running code, so it is not used.)
   */
  jobSignal = (): AbortSignal | undefined => {
    const cur = this.current;
    if (cur === null) return undefined;
    if (cur.controller === null) {
      cur.controller = new AbortController();
      if (cur.stopped !== null) cur.controller.abort(cur.stopped);
    }
    return cur.controller.signal;
  };

  tag = (): OutputTag => ({ job: this.current?.id ?? null, index: this.current?.index ?? null });

  enqueue(job: JobMessage): void {
    if (job.code?.bundle) this.cache.receive(job.code.hash, job.code.bundle); // even if the job never runs here
    this.queue.push(job);
    this.schedule();
  }

  schedule(): void {
    if (this.pumpScheduled || this.current) return;
    this.pumpScheduled = true;
    internalSetImmediate(() => { this.pumpScheduled = false; this.pump(); });
  }

  private pump(): void {
    if (this.current || this.gate()) return;
    const job = this.queue.shift();
    if (!job) return;
    const cur: Running = { id: job.id, started: performance.now(), reported: false, index: null, controller: null, stopped: null };
    this.setCurrent(cur);
    // Start it from a promise reaction, not from this setImmediate callback: when an interrupt
    // terminates a task's synchronous code (V8's terminate-execution) inside a macrotask callback,
    // Node's async-id stack is left unbalanced and Node aborts the process ("async hook stack has
    // become corrupted"); a terminated promise reaction is survived. (Not queueMicrotask: Node
    // runs its callbacks in an async scope, which has the same problem.)
    void Promise.resolve().then(() => this.run(job, cur));
  }

  /**
   * Handles an interrupt message: cancel queued jobs, stop the running one. The job the parent
   * thinks is running may not have started here yet (it arrived just before the interrupt, or
   * behind leftover code the helper just terminated): it is then dropped like a queued one,
   * instead of starting after the interrupt and leaving the parent waiting for its answer.
   */
  interrupt(running: number | null, cancel: number[]): void {
    const notStarted = running !== null && this.current?.id !== running && this.queue.some((j) => j.id === running);
    if (cancel.length || notStarted) {
      const drop = new Set(notStarted ? [...cancel, running] : cancel);
      this.queue = this.queue.filter((j) => {
        if (!drop.has(j.id)) return true;
        this.ch.send({ t: "cancelled", id: j.id });
        return false;
      });
    }
    const killed = this.terminatedSinceLastCheck();
    const cur = this.current;
    if (cur && !cur.reported && (cur.id === running || killed)) this.finish(cur, interrupted(cur));
    this.schedule();
  }

  /**
   * After an "unstick" request: if the helper terminated running code, it was leftover code of a
   * stopped task, unless a job had started meanwhile, in which case that job was hit and is
   * reported as interrupted.
   */
  unstuck(): void {
    const killed = this.terminatedSinceLastCheck();
    const cur = this.current;
    if (killed && cur && !cur.reported) this.finish(cur, interrupted(cur));
    this.schedule();
  }

  /** Gives back queued jobs (the parent moves them to an idle worker); a job that already started stays, and says so. */
  withdraw(ids: number[]): void {
    const give = new Set(ids);
    this.queue = this.queue.filter((j) => {
      if (!give.has(j.id)) return true;
      give.delete(j.id);
      this.ch.send({ t: "withdrawn", id: j.id });
      return false;
    });
    for (const id of give) this.ch.send({ t: "started", id });
  }

  /** Cancels jobs: queued ones are dropped; the running one stops if it is awaiting (we are running, so it is). */
  cancel(ids: number[]): void {
    this.interrupt(null, ids);
    const cur = this.current;
    if (cur && !cur.reported && ids.includes(cur.id)) this.finish(cur, interrupted(cur));
  }

  /** The job whose code runs from now on: output written from here is tagged with it. */
  private setCurrent(cur: Running | null): void {
    if (this.current === cur) return;
    this.output.jobChanged(cur?.id ?? null);
    this.current = cur;
  }

  private finish(cur: Running, msg: WorkerToParent, transfer?: ArrayBuffer[]): void {
    if (cur.reported) return;
    cur.reported = true;
    if (readCurrentItem(this.itemWords)?.job === cur.id) endChunk(this.itemWords);
    if (this.current === cur) this.setCurrent(null);
    if (msg.t === "interrupted") {
      // waits the job started (locks, queues, ...) are withdrawn; its own code can check the signal
      cur.stopped = new InterruptedError("the task was stopped (interrupted, cancelled or timed out)");
      cur.controller?.abort(cur.stopped);
    }
    this.onJobEnd(cur.id, msg.t === "interrupted");
    try {
      this.ch.send(msg, transfer);
    } catch (e) {
      // a result that cannot be cloned (a function, a socket, ...): say so instead of never answering
      if (msg.t !== "done") throw e;
      const why = new TypeError(`the task's result cannot be sent back to the pool: ${(e as Error).message.replace(/\.+$/, "")}. Return plain data (anything structured clone accepts).`);
      this.ch.send({ t: "done", id: msg.id, ms: msg.ms, rss: msg.rss, ok: false, error: serializeError(why) });
    }
    this.schedule();
  }

  /** Runs a job pump() made current (output is tagged with it from there on). */
  private async run(job: JobMessage, cur: Running): Promise<void> {
    if (job.ack) this.ch.send({ t: "started", id: job.id });
    const body = job.body;
    try {
      if (body.kind === "push") {
        const values = (await decodeInWorker(body.bindings, this.env)) as Record<string, unknown>;
        if (cur.reported) return;
        for (const [name, v] of Object.entries(values)) {
          (globalThis as Record<string, unknown>)[name] = v;
          this.cache.overwritten(name);
        }
        this.done(cur, { ok: true, value: Object.keys(values) });
        return;
      }
      const code = job.code!;
      const fn = this.cache.ready(code) ?? (await this.cache.prepare(code));
      if (cur.reported) return;
      if (body.kind === "call") {
        const args = (await decodeInWorker(body.args, this.env)) as unknown[];
        if (cur.reported) return;
        let r = fn(...args);
        if (isThenable(r)) { r = await r; if (cur.reported) return; }
        this.done(cur, { ok: true, value: r });
        return;
      }
      await this.runMap(cur, fn, body.items, body.star, body.start);
    } catch (e) {
      if (cur.reported) return;
      const msg: WorkerToParent = { t: "done", id: cur.id, ms: performance.now() - cur.started, rss: rss(), ok: false, error: serializeError(e) };
      if (cur.index !== null) (msg as { index?: number }).index = cur.index;
      this.finish(cur, msg);
    }
  }

  private async runMap(cur: Running, fn: AnyFn, raw: unknown[] | Float64Array, star: boolean, start: number): Promise<void> {
    const items = raw instanceof Float64Array ? raw : ((await decodeInWorker(raw, this.env)) as unknown[]);
    if (cur.reported) return;
    const n = items.length;
    const numeric = items instanceof Float64Array;
    let f64: Float64Array | null = new Float64Array(n);
    let arr: unknown[] = [];
    // the item running is published for the pool (which item killed the worker, should it die)
    const words = this.itemWords;
    if (n > 1) beginChunk(words, cur.id, start);
    for (let i = 0; i < n; i++) {
      cur.index = start + i;
      words[ITEM_INDEX] = start + i;
      const x = numeric ? numericItem(items[i] as number) : items[i];
      let r: unknown;
      if (star) {
        if (!Array.isArray(x)) throw new TypeError(`starmap needs each item to be an array of arguments; item ${start + i} is ${typeof x}`);
        r = fn(...x);
      } else r = fn(x);
      if (f64 !== null && typeof r === "number") { f64[i] = r; continue; }
      if (isThenable(r)) {
        r = await r;
        if (cur.reported) return;
        if (f64 !== null && typeof r === "number") { f64[i] = r; continue; }
      }
      if (f64 !== null) { arr = Array.from(f64.subarray(0, i)); f64 = null; }
      arr[i] = r;
    }
    cur.index = null;
    this.done(cur, { ok: true, value: f64 ?? arr });
  }

  private done(cur: Running, out: { ok: true; value: unknown }): void {
    if (cur.reported) return;
    const v = out.value;
    let value: unknown;
    let transfer: ArrayBuffer[] | undefined;
    if (v instanceof Float64Array) {
      value = v;
      if (this.ch.isThread) transfer = [v.buffer as ArrayBuffer];
    } else value = encodeHandles(v, { sharedMemory: this.ch.isThread });
    this.finish(cur, { t: "done", id: cur.id, ms: performance.now() - cur.started, rss: rss(), ok: true, value }, transfer);
  }
}
