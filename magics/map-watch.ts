/**
 * Follows one `%%pool map` call on the farm and keeps its MapProgress and live display current:
 * the call's task and output events, the pool's worker events (which worker is which thread, which
 * died or was replaced), `--timeout`, and the kernel's interrupt.
 *
 * It also decides when a map that did not succeed shows its final state. When a map fails or is
 * interrupted, the tasks it had running are being stopped: the summary waits until each has left
 * its worker (stopped, with the worker kept, or its worker replaced), so that it can say what
 * became of every worker, but at most STOP_DEADLINE_MS, which ends before the executor gives up
 * on the pool and ends the cell (kernel/executor/main.ts, 3 s), so that the display is final
 * before the cell is. The summary goes out from the farm's own event callbacks, before the
 * interrupt or the failure can end the cell.
 */
import type { OutputEvent, TaskEvent, WorkerEvent } from "../farm/events.js";
import type { Pool } from "../farm/pool.js";
import type { CallObserver } from "./notebook-pool.js";
import { itemsLabel, type MapProgress, type StopReason, type WorkerProgress } from "./map-progress.js";
import type { LiveMapDisplay } from "./live-display.js";

/** Longest wait, after a map failed or was interrupted, for its running tasks to leave their workers. */
export const STOP_DEADLINE_MS = 2000;

class TimeoutError extends Error {
  override name = "TaskTimeoutError";
}

export interface MapWatchOptions {
  progress: MapProgress;
  live: LiveMapDisplay;
  /** `--timeout MS`: a task running longer aborts the map (through `abort`). */
  timeoutMs?: number;
  abort: AbortController;
  /** Worker lines the display no longer holds, to show as the cell's stream output. */
  overflow(stream: "stdout" | "stderr", text: string): void;
  /** Shows the final state (the map is over and nothing of it runs any more, or the deadline passed). */
  end(): void;
  stopDeadlineMs?: number;
}

export class MapWatch {
  private readonly progress: MapProgress;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly threadIds = new Map<number, number>();
  private farm: Pool | undefined;
  private stopping = false;
  private deadline: NodeJS.Timeout | undefined;
  private ended = false;
  private resolveEnded!: () => void;
  /** Resolves once the final state is shown. */
  readonly whenEnded = new Promise<void>((resolve) => (this.resolveEnded = resolve));
  readonly observer: CallObserver;

  constructor(private readonly opts: MapWatchOptions) {
    this.progress = opts.progress;
    this.observer = {
      task: (ev) => this.onTask(ev),
      output: (ev) => this.onOutput(ev),
      interrupt: () => this.stop("interrupted"),
    };
  }

  /** The map's farm: who its workers are, and their exits while the map runs. */
  attach(farm: Pool): void {
    if (this.farm) return;
    this.farm = farm;
    this.progress.threads = farm.threads;
    for (const w of farm.status().workers) this.threadIds.set(w.id, w.threadId);
    farm.on("worker", this.onWorker);
  }

  private worker(id: number, pid?: number): WorkerProgress {
    const w = this.progress.worker(id, pid);
    const threadId = this.threadIds.get(id);
    if (threadId !== undefined) w.threadId = threadId;
    return w;
  }

  private onTask(ev: TaskEvent): void {
    const first = ev.range ? ev.range[0] : 0;
    const count = ev.range ? ev.range[1] - ev.range[0] : 1;
    if (ev.phase === "start") {
      this.worker(ev.workerId, ev.pid);
      this.progress.taskStarted(ev.workerId, first, count, ev.pid);
      this.startTimeout(ev, first, count);
    } else {
      this.clearTimeout(ev.job);
      if (ev.outcome === "ok" || ev.outcome === "error") {
        this.progress.taskFinished(ev.workerId, first, count, ev.ms ?? 0, ev.outcome === "ok", ev.pid);
      } else {
        // Stopped by an interrupt, the map's failure or a time-out; a crashed task is retried (its worker's exit is shown).
        const fate = ev.outcome !== "crashed" ? `${itemsLabel(first, count)} stopped; the worker keeps its state` : undefined;
        this.progress.taskStopped(ev.workerId, fate);
      }
    }
    this.opts.live.changed();
    this.checkEnd();
  }

  private startTimeout(ev: TaskEvent, first: number, count: number): void {
    const ms = this.opts.timeoutMs;
    if (ms === undefined) return;
    const t = setTimeout(() => {
      this.opts.abort.abort(new TimeoutError(`${itemsLabel(first, count)} on worker ${ev.workerId} ran longer than --timeout ${ms} ms and was stopped`));
    }, ms);
    t.unref();
    this.timers.set(ev.job, t);
  }

  private clearTimeout(job: number): void {
    const t = this.timers.get(job);
    if (t) clearTimeout(t);
    this.timers.delete(job);
  }

  private onOutput(ev: OutputEvent): void {
    const w = this.worker(ev.workerId, ev.pid);
    if (this.progress.threads) w.threadId = ev.threadId;
    // Lines that no longer fit in the display still reach the cell, labelled, as stream output.
    const evicted = this.progress.output(ev.workerId, ev.stream, ev.text, ev.pid);
    for (const name of ["stdout", "stderr"] as const) {
      const mine = evicted.filter((l) => l.stream === name);
      if (mine.length) this.opts.overflow(name, mine.map((l) => `[worker ${ev.workerId}] ${l.text}\n`).join(""));
    }
    this.opts.live.changed();
  }

  private readonly onWorker = (ev: WorkerEvent): void => {
    if (ev.type === "online") {
      this.threadIds.set(ev.workerId, ev.threadId);
      return;
    }
    const w = this.progress.workers.get(ev.workerId);
    const identity = this.progress.threads ? `thread ${ev.threadId}` : `pid ${ev.pid}`;
    if (!ev.expected) {
      const how = ev.signal ? `was killed by ${ev.signal}` : `exited with code ${ev.exitCode}`;
      this.worker(ev.workerId, ev.pid);
      this.progress.output(ev.workerId, "stderr", `(worker ${ev.workerId}, ${identity}, ${how}; a new worker takes its place)`);
    }
    // A worker that was running one of this map's tasks: it was being stopped and did not stop in
    // time, so it was killed (an expected exit), or it died on its own (the task is then retried,
    // unless the map is being stopped).
    if (w?.running) {
      const what = itemsLabel(w.running.first, w.running.count);
      const fate = ev.expected
        ? `${what} did not stop in time; its worker (${identity}) was replaced by a new one`
        : this.stopping ? `${what} ended as its worker (${identity}) died; a new worker takes its place` : undefined;
      this.progress.taskStopped(ev.workerId, fate);
    }
    this.opts.live.changed();
    this.checkEnd();
  };

  /**
   * The map is being stopped (interrupted, or it failed): the display says so, and shows its
   * final state once the tasks still running have left their workers, or after the deadline.
   * Resolves when the final state is shown.
   */
  stop(reason: StopReason): Promise<void> {
    try {
      this.progress.stopping(reason);
      if (!this.stopping && !this.ended) {
        this.stopping = true;
        this.deadline = setTimeout(() => this.giveUp(), this.opts.stopDeadlineMs ?? STOP_DEADLINE_MS);
        this.deadline.unref();
        this.opts.live.changed();
      }
      this.checkEnd();
    } catch (e) {
      // Called from the executor's interrupt handling: never let the display break it.
      process.emitWarning(`tspool: the map display could not show the stop: ${(e as Error)?.stack ?? e}`);
    }
    return this.whenEnded;
  }

  private checkEnd(): void {
    if (this.stopping && !this.ended && this.progress.runningWorkers().length === 0) this.finish();
  }

  /** The deadline passed with tasks still on their workers. */
  private giveUp(): void {
    if (this.ended) return;
    const after = `${(this.opts.stopDeadlineMs ?? STOP_DEADLINE_MS) / 1000} s`;
    for (const w of this.progress.runningWorkers()) {
      this.progress.taskStopped(w.id, `${itemsLabel(w.running!.first, w.running!.count)} had not stopped ${after} after the map ${this.progress.stopReason === "interrupted" ? "was interrupted" : "stopped"}; its worker is being replaced`);
    }
    this.finish();
  }

  /** Shows the final state and lets go of the farm and the timers. */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.deadline) clearTimeout(this.deadline);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.farm?.off("worker", this.onWorker);
    try {
      this.opts.end();
    } finally {
      this.resolveEnded();
    }
  }
}
