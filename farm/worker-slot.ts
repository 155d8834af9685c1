/**
 * The parent's record of one worker id: its current transport (a replacement gets a new one),
 * the jobs sent to it in order (the first is running, the rest are queued in the worker), what
 * code it already has, and its counters for `pool.status()`.
 */
import { CodeLedger } from "./code-ledger.js";
import type { JobKind } from "./events.js";
import type { JobBody, ParentToWorker } from "./messages.js";
import { splitLines } from "./output-lines.js";
import type { PreparedCode } from "./task-code.js";
import type { WorkerTransport } from "./transport.js";

/** Handle-call replies a Slot remembers (a worker that cannot read one says so at once). */
const MAX_REPLIES_KEPT = 256;

export interface JobOwner {
  ok(job: Job, value: unknown, ms: number): void;
  fail(job: Job, error: Error): void;
}

export type StopReason = "interrupt" | "timeout" | "abort" | "cancel" | "terminate";

export interface Job {
  id: number;
  kind: JobKind;
  code: PreparedCode | null;
  body: JobBody;
  range: [number, number] | null;
  pinned: number | null;
  owner: JobOwner;
  /** Times the job's worker died under it. */
  crashes: number;
  /** How many of those it survives, when its call said (else the pool's `retries`). */
  retries: number | undefined;
  triedOn: Set<number>;
  slot: Slot | null;
  /** The caller already got an answer (resolved or rejected); later news from the worker is only bookkeeping. */
  settled: boolean;
  /** Set when the pool asked the worker to stop this job. */
  stopping: { reason: StopReason; error: (replaced: boolean) => Error; settleOnConfirm: boolean } | null;
  /** A withdraw request is on its way to the worker (the job was sent ahead and another worker is idle). */
  withdrawing: boolean;
  /** Resolved when the job has left its worker (finished, stopped, or the worker died). */
  offWaiters: (() => void)[];
  timeoutMs: number | undefined;
  timer: NodeJS.Timeout | null;
  graceTimer: NodeJS.Timeout | null;
  /** Set while waiting for a job sent with `ack` to start (see Slot.mayRunLeftovers). */
  startTimer: NodeJS.Timeout | null;
  /** When the job was sent, then when it began running (for status and rebalancing). */
  sentAt: number;
  /** Its "start" event went out: it is running (a job sent ahead starts when the one before it ends). */
  announced: boolean;
  /**
   * A part of a map chunk whose worker died, run again (see PoolScheduler.takeBackJobs): it does
   * not count towards maxTasksPerWorker, the chunk it was cut from already did.
   */
  rerun: boolean;
  /** The number of the message that sent it to its worker (see Slot.send). */
  seq: number;
  /** The item the worker said it was running when the job was stopped (its "interrupted" answer). */
  stoppedAt: number | undefined;
  /** The group of a map chunk (to measure chunk times and decide on prefetching). */
  group: { msPerItem: number | null } | null;
  /** The call's `tag` option, repeated on the job's events. */
  tag: unknown;
}

export class Slot {
  state: "starting" | "ready" | "stopping" | "exited" = "starting";
  inflight: Job[] = [];
  /** The code this worker holds (a replacement starts with none). */
  readonly code = new CodeLedger();
  jobsSinceSpawn = 0;
  rss: number | null = null;
  readonly spawnedAt = Date.now();
  /** The pool asked this worker to go (close, resize, recycle, terminate, kill after a failed interrupt). */
  expectedExit = false;
  /**
   * A task of this worker was stopped while it awaited: its code after the await may still run
   * (and, say, loop forever). Jobs sent to it while it is free then ask for a "started" answer.
   */
  mayRunLeftovers = false;
  /** Set when the pool killed the worker itself because it did not stop in time. */
  killedForStop = false;
  stderrTail: string[] = [];
  /** Set while a retiring worker finishes its jobs: sends it the exit message. */
  onDrained: (() => void) | null = null;
  readonly abort = new AbortController();
  private rawPartial = { stdout: "", stderr: "" };

  /** Messages sent to this worker so far; the worker counts those it read (see unreadable()). */
  private sent = 0;
  /** Recent handle-call replies by message number, to answer again should the worker fail to read one. */
  private readonly replies = new Map<number, number>();

  constructor(readonly id: number, readonly transport: WorkerTransport) {}

  /** Sends a message to the worker, numbered (a job's number is kept on the job). Throws if it cannot be serialized. */
  send(msg: ParentToWorker, transfer?: ArrayBuffer[], job?: Job): void {
    this.transport.send(msg, transfer);
    this.sent++;
    if (job) job.seq = this.sent;
    else if (msg.t === "hreply") {
      this.replies.set(this.sent, msg.cid);
      if (this.replies.size > MAX_REPLIES_KEPT) this.replies.delete(this.replies.keys().next().value as number);
    }
  }

  /**
   * The worker could not read message number `seq` (it failed to deserialize: nested too deeply
   * for its stack): the job it was, or the handle call it answered, if known.
   */
  unreadable(seq: number): { job: Job } | { cid: number } | null {
    const job = this.inflight.find((j) => j.seq === seq);
    if (job) return { job };
    const cid = this.replies.get(seq);
    return cid === undefined ? null : { cid };
  }

  get idle(): boolean { return this.state === "ready" && this.inflight.length === 0; }

  noteStderr(text: string): void {
    const lines = text.split("\n").filter((l) => l.length > 0);
    this.stderrTail.push(...lines);
    if (this.stderrTail.length > 60) this.stderrTail.splice(0, this.stderrTail.length - 60);
  }

  /** The last stderr lines, led by a line saying why the process died if one is there (V8 prints its native stack after it). */
  crashReport(): string {
    const lines = this.stderrTail;
    const last = lines.slice(-6);
    const reason = lines.find((l) => /FATAL ERROR|out of memory|Segmentation fault|Aborted/i.test(l));
    return (reason && !last.includes(reason) ? [reason, "...", ...last] : last).join("\n");
  }

  /** Splits raw pipe output into whole lines; returns the complete part (or "" if none yet). */
  rawLines(stream: "stdout" | "stderr", text: string, flush = false): string {
    const [whole, rest] = splitLines(this.rawPartial[stream], text);
    if (flush) { this.rawPartial[stream] = ""; return rest ? whole + rest + "\n" : whole; }
    this.rawPartial[stream] = rest;
    return whole;
  }
}
