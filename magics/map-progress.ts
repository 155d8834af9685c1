/**
 * The state of one `%%pool map` (or `pool.map` from a cell) as it runs: how many items are done,
 * and per worker its tasks, busy time, console lines and the timed spans of its tasks (for the
 * timeline). Fed by the farm's events; read by the renderers. Holds no Jupyter knowledge.
 */

export interface OutputLine {
  stream: "stdout" | "stderr";
  text: string;
}

/** How a task ended: it returned, it threw, or it was stopped (interrupt, failure, timeout) before it could. */
export type SpanStatus = "ok" | "failed" | "stopped";

export interface TaskSpan {
  workerId: number;
  start: number; // ms since the map started
  end: number;
  first: number; // first item index of the task (chunk)
  count: number; // items in it
  status: SpanStatus;
}

/** Why a map ended before all its items were done. */
export type StopReason = "failed" | "interrupted" | "timed out";

export interface WorkerProgress {
  id: number;
  pid?: number;
  /** Thread workers: the worker's thread id (its pid is the kernel's). */
  threadId?: number;
  tasks: number; // chunks finished
  items: number; // items finished
  busyMs: number;
  lines: OutputLine[];
  droppedLines: number; // lines beyond the display cap (counted, never silently lost)
  /** The span currently running on this worker, if any. */
  running?: { start: number; first: number; count: number };
  /** What became of the task it was running when the map stopped, e.g. "item 3 stopped; the worker keeps its state". */
  fate?: string;
}

/** "item 3" or "items 4..7". */
export function itemsLabel(first: number, count: number): string {
  return count === 1 ? `item ${first}` : `items ${first}..${first + count - 1}`;
}

export const MAX_LINES_PER_WORKER = 2000;

export class MapProgress {
  readonly startedAt: number;
  finishedAt: number | undefined;
  done = 0;
  failed = false;
  /** Set once the map is being stopped (before its workers have confirmed); kept when it finishes. */
  stopReason: StopReason | undefined;
  /** The workers are threads of the kernel's process (shown by thread id, not pid). */
  threads = false;
  readonly workers = new Map<number, WorkerProgress>();
  readonly spans: TaskSpan[] = [];

  constructor(
    readonly title: string,
    public total: number | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedAt = now();
  }

  elapsedMs(): number {
    return (this.finishedAt ?? this.now()) - this.startedAt;
  }

  worker(id: number, pid?: number): WorkerProgress {
    let w = this.workers.get(id);
    if (!w) {
      w = { id, pid, tasks: 0, items: 0, busyMs: 0, lines: [], droppedLines: 0 };
      this.workers.set(id, w);
    }
    if (pid !== undefined) w.pid = pid;
    return w;
  }

  /** "pid 123" for a process worker, "thread 4" for a thread worker (all threads share the kernel's pid). */
  identity(w: WorkerProgress): string | undefined {
    if (this.threads) return w.threadId !== undefined ? `thread ${w.threadId}` : undefined;
    return w.pid !== undefined ? `pid ${w.pid}` : undefined;
  }

  taskStarted(workerId: number, first: number, count: number, pid?: number): void {
    const w = this.worker(workerId, pid);
    w.running = { start: this.now() - this.startedAt, first, count };
  }

  /** A task (chunk of `count` items starting at `first`) finished on a worker after `ms` of work. */
  taskFinished(workerId: number, first: number, count: number, ms: number, ok = true, pid?: number): void {
    const w = this.worker(workerId, pid);
    const end = this.now() - this.startedAt;
    const start = w.running && w.running.first === first ? w.running.start : Math.max(0, end - ms);
    w.running = undefined;
    w.tasks += 1;
    if (ok) {
      w.items += count;
      this.done += count;
    }
    w.busyMs += ms;
    this.spans.push({ workerId, start, end, first, count, status: ok ? "ok" : "failed" });
  }

  /**
   * The task running on a worker stopped without a result (interrupted, cancelled, or its worker
   * died); `fate` says what became of it, for the summary. Its span ends now.
   */
  taskStopped(workerId: number, fate?: string): void {
    const w = this.workers.get(workerId);
    if (!w?.running) return;
    const { start, first, count } = w.running;
    w.running = undefined;
    this.spans.push({ workerId, start, end: this.now() - this.startedAt, first, count, status: "stopped" });
    if (fate !== undefined) w.fate = fate;
  }

  /** The workers still running a task of this map. */
  runningWorkers(): WorkerProgress[] {
    return this.sortedWorkers().filter((w) => w.running);
  }

  /**
   * Adds a worker's lines. Beyond MAX_LINES_PER_WORKER the oldest leave the display (counted in
   * droppedLines) and are returned, so the caller can still show them elsewhere.
   */
  output(workerId: number, stream: "stdout" | "stderr", text: string, pid?: number): OutputLine[] {
    const w = this.worker(workerId, pid);
    const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
    const evicted: OutputLine[] = [];
    for (const line of lines) {
      w.lines.push({ stream, text: line });
    }
    if (w.lines.length > MAX_LINES_PER_WORKER) {
      const extra = w.lines.length - MAX_LINES_PER_WORKER;
      evicted.push(...w.lines.splice(0, extra));
      w.droppedLines += extra;
    }
    return evicted;
  }

  /** The map is being stopped: the display says so until it finishes. */
  stopping(reason: StopReason): void {
    this.stopReason ??= reason;
    if (reason !== "interrupted") this.failed = true;
  }

  finish(failed = false): void {
    this.finishedAt ??= this.now();
    this.failed = failed || this.stopReason !== undefined;
  }

  get finished(): boolean {
    return this.finishedAt !== undefined;
  }

  /** Items per second so far. */
  rate(): number {
    const s = this.elapsedMs() / 1000;
    return s > 0 ? this.done / s : 0;
  }

  /** Estimated ms to go, or undefined when unknown. */
  etaMs(): number | undefined {
    if (this.total === undefined || this.done === 0) return undefined;
    const rate = this.done / Math.max(1, this.elapsedMs());
    return Math.max(0, (this.total - this.done) / rate);
  }

  sortedWorkers(): WorkerProgress[] {
    return [...this.workers.values()].sort((a, b) => a.id - b.id);
  }

  /** Sum of the time the workers spent on tasks. */
  busyMs(): number {
    let s = 0;
    for (const w of this.workers.values()) s += w.busyMs;
    return s;
  }

  /** Summed task time over wall time: how many workers were usefully busy on average. */
  speedup(): number {
    const wall = this.elapsedMs();
    return wall > 0 ? this.busyMs() / wall : 0;
  }
}
