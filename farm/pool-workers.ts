/**
 * The bottom layer of a Pool: its workers. One slot per worker id, each holding the current
 * transport (a replacement keeps the id); starting, retiring and replacing workers, noticing
 * their exits, their raw output, and whether they keep the program alive. What a worker's jobs
 * and messages mean is left to the layers above (see pool-scheduler.ts, pool-messages.ts).
 */
import { EventEmitter } from "node:events";
import type { PoolEvents } from "./events.js";
import type { WorkerToParent } from "./messages.js";
import type { PoolOptions } from "./pool-options.js";
import { spawnProcessWorker } from "./process-transport.js";
import { spawnThreadWorker } from "./thread-transport.js";
import type { TransportFactory, WorkerExit } from "./transport.js";
import { Slot } from "./worker-slot.js";

const MAX_START_FAILURES = 3;

/** Counters kept per worker id across replacements (for `pool.status()`). */
export interface WorkerStats { tasksDone: number; itemsDone: number; busyMs: number; restarts: number; startFailures: number; bundlesSent: number }

export abstract class PoolWorkers extends EventEmitter<PoolEvents> {
  readonly threads: boolean;
  protected readonly opts: PoolOptions;
  protected readonly spawn: TransportFactory;
  protected slots: (Slot | null)[] = [];
  protected stats: WorkerStats[] = [];
  protected closed = false;
  protected terminated = false;
  protected brokenReason: string | null = null;
  protected targetSize: number;
  protected referenced = true;
  protected statsWaiters = new Map<Slot, ((rss: number) => void)[]>();

  constructor(opts: PoolOptions, workers: number) {
    super();
    this.opts = { ...opts };
    this.threads = opts.threads === true;
    this.spawn = opts.transport ?? (this.threads ? spawnThreadWorker : spawnProcessWorker);
    this.targetSize = workers;
  }

  /** A message from a worker (results, output, handle calls, ...). */
  protected abstract onMessage(slot: Slot, m: WorkerToParent): void;
  /** Sends a worker that just became ready what it needs before any task (initializer, pushed bindings). */
  protected abstract prepareWorker(slot: Slot): void;
  /** The jobs of a worker that exited: retried elsewhere, failed, or settled as they were being stopped. */
  protected abstract takeBackJobs(slot: Slot, e: WorkerExit, stderrTail: string): void;
  /** The pool can no longer work: every pending task fails with the reason. */
  protected abstract breakPool(reason: string, cause: Error | null): void;
  protected abstract hasWork(): boolean;
  /** Hands queued work to free workers. */
  protected abstract pump(): void;

  /** A worker said it is ready: it gets what every worker must have first, then work. */
  protected onReady(slot: Slot): void {
    if (slot.state !== "starting") return;
    slot.state = "ready";
    const st = this.stats[slot.id];
    this.notify("worker", { type: "online", workerId: slot.id, pid: slot.transport.pid, threadId: slot.transport.threadId, restarts: st?.restarts ?? 0 });
    this.prepareWorker(slot);
    this.pump();
  }

  protected startWorker(id: number, replacing = false): void {
    if (!this.stats[id]) this.stats[id] = { tasksDone: 0, itemsDone: 0, busyMs: 0, restarts: 0, startFailures: 0, bundlesSent: 0 };
    else if (replacing) this.stats[id].restarts++;
    const transport = this.spawn({
      workerId: id, env: this.opts.env, execArgv: this.opts.execArgv, resourceLimits: this.opts.resourceLimits,
    });
    const slot = new Slot(id, transport);
    this.slots[id] = slot;
    transport.onMessage((m) => this.onMessage(slot, m));
    transport.onRawOutput((stream, text, job) => {
      if (stream === "stderr") slot.noteStderr(text);
      const whole = slot.rawLines(stream, text);
      if (whole) this.emitRaw(slot, stream, whole, job);
    });
    transport.onExit((e) => this.onExit(slot, e));
    if (!this.referenced) this.setRef(slot, false);
  }

  /**
   * Raw lines of a worker, tagged with the job that wrote them when the transport knows it (a
   * process worker marks job changes in its pipes), else with the job it is running now.
   */
  protected emitRaw(slot: Slot, stream: "stdout" | "stderr", text: string, job?: number | null): void {
    const cur = job === undefined ? slot.inflight[0] : slot.inflight.find((j) => j.id === job);
    this.notify("output", {
      workerId: slot.id, pid: slot.transport.pid, threadId: slot.transport.threadId, stream, text,
      lines: text.slice(0, -1).split("\n"), job: job === undefined ? cur?.id ?? null : job, index: null, raw: true, tag: cur?.tag,
    });
  }

  protected exitWaiters = new Map<Slot, (() => void)[]>();
  protected exitOf(slot: Slot): Promise<void> {
    if (slot.state === "exited") return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.set(slot, [...(this.exitWaiters.get(slot) ?? []), resolve]));
  }

  /** Asks a worker to finish and exit (kills it if it does not within 2 s). */
  protected retire(slot: Slot): Promise<void> {
    if (slot.state === "exited") return Promise.resolve();
    slot.expectedExit = true;
    const done = this.exitOf(slot);
    if (slot.state !== "stopping") {
      slot.state = "stopping"; // takes no new jobs from now on
      this.setRef(slot, true);
      const leave = () => {
        slot.send({ t: "exit" });
        const t = setTimeout(() => slot.transport.kill(), 2000);
        void done.then(() => clearTimeout(t));
      };
      // the jobs it already has finish first
      if (slot.inflight.length === 0) leave();
      else slot.onDrained = leave;
    }
    return done;
  }

  protected onExit(slot: Slot, e: WorkerExit): void {
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

    if (e.error) slot.noteStderr(e.error);
    const tail = slot.crashReport();
    this.takeBackJobs(slot, e, tail);

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

  /** Emits an event; a listener that throws gets a warning instead of breaking the pool's bookkeeping. */
  protected notify<K extends keyof PoolEvents>(event: K, ...args: PoolEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (e) {
      process.emitWarning(`a listener of the pool's "${event}" event threw; the pool carries on: ${e instanceof Error ? e.stack : String(e)}`, "TspoolListenerWarning");
    }
  }

  /** Workers keep the program alive only while there is work (an idle pool does not block exit). */
  protected updateRef(): void {
    const want = this.hasWork() || this.slots.some((s) => s && s.state === "stopping");
    if (want === this.referenced) return;
    this.referenced = want;
    for (const s of this.slots) if (s) this.setRef(s, want);
  }

  protected setRef(slot: Slot, on: boolean): void {
    slot.transport.setRef?.(on);
  }
}
