/**
 * The middle layer of a Pool: jobs. It queues them (single jobs, and map calls that cut their
 * chunks on demand), hands them to free workers (sending map chunks one ahead, and moving a chunk
 * that waits behind a slow one to a worker that went idle), ships their code and arguments,
 * settles them exactly once, stops them (interrupt, time-out, cancel), and takes back the jobs of
 * workers that died.
 */
import { PoolBrokenError, TaskTimeoutError, WorkerCrashedError } from "./errors.js";
import type { JobKind } from "./events.js";
import { encodeHandles } from "./handles.js";
import { isQueuedMap, JobQueue } from "./job-queue.js";
import type { MapGroup } from "./map-group.js";
import type { JobBody, JobMessage } from "./messages.js";
import { abortError, type PoolOptions } from "./pool-options.js";
import { PoolWorkers } from "./pool-workers.js";
import { DependencyUnsendable, sendError } from "./send-errors.js";
import { prepareCode, type PreparedCode } from "./task-code.js";
import type { CodePlan } from "./code-ledger.js";
import type { WorkerExit } from "./transport.js";
import type { Job, JobOwner, Slot, StopReason } from "./worker-slot.js";

/** The owner of map chunks: it can also cut a chunk into parts (see takeBackJobs). */
export interface ChunkOwner extends JobOwner {
  /**
   * Jobs for the parts of the chunk between `cuts` (absolute item indices, ascending, inside the
   * chunk), in order; the chunk itself is no longer the call's job.
   */
  splitChunk(job: Job, cuts: number[]): Job[];
}

function isChunkOwner(owner: JobOwner): owner is ChunkOwner {
  return typeof (owner as Partial<ChunkOwner>).splitChunk === "function";
}

export abstract class PoolScheduler extends PoolWorkers {
  protected queue = new JobQueue();
  protected nextJobId = 1;
  protected initCode: PreparedCode | null;
  protected pushed = new Map<string, unknown>();
  protected idleWaiters: (() => void)[] = [];

  constructor(opts: PoolOptions, workers: number) {
    super(opts, workers);
    this.initCode = opts.initializer !== undefined ? prepareCode(opts.initializer, "initializer") : null;
  }

  protected makeJob(
    kind: JobKind, code: PreparedCode | null, body: JobBody, range: [number, number] | null, pinned: number | null,
    owner: JobOwner, group: MapGroup | null, timeoutMs: number | undefined,
  ): Job {
    return {
      id: this.nextJobId++, kind, code, body, range, pinned, owner, crashes: 0, retries: undefined, triedOn: new Set(), slot: null,
      settled: false, stopping: null, withdrawing: false, offWaiters: [], timeoutMs: timeoutMs ?? this.opts.taskTimeout, timer: null, graceTimer: null,
      startTimer: null, sentAt: 0, announced: false, rerun: false, seq: 0, stoppedAt: undefined,
      group, tag: undefined,
    };
  }

  protected enqueue(job: Job, front = false): void {
    if (front) this.queue.unshift(job);
    else this.queue.push(job);
    this.updateRef();
    this.pump();
  }

  /**
   * Whether a worker may be sent another task: with maxTasksPerWorker, a worker that was sent
   * that many is replaced once they are done (see afterJob), so it gets no more, not even one
   * sent ahead while it runs its last.
   */
  protected underTaskLimit(s: Slot): boolean {
    const max = this.opts.maxTasksPerWorker;
    return max === undefined || s.jobsSinceSpawn < max;
  }

  /** An idle worker for the job (its own for a pinned job; else preferably one it has not crashed on yet). */
  protected idleSlotFor(job: Job | null): Slot | null {
    if (job && job.pinned !== null) {
      const s = this.slots[job.pinned];
      return s && s.idle && this.underTaskLimit(s) ? s : null;
    }
    let fallback: Slot | null = null;
    for (let id = 0; id < this.targetSize; id++) {
      const s = this.slots[id];
      if (!s || !s.idle || !this.underTaskLimit(s)) continue;
      if (!job || !job.triedOn.has(id)) return s;
      fallback ??= s;
    }
    return fallback;
  }

  /** A busy worker a map chunk may be sent ahead to: it runs one map chunk and has nothing waiting. */
  protected slotToSendAhead(): Slot | null {
    for (let id = 0; id < this.targetSize; id++) {
      const s = this.slots[id];
      if (!s || s.state !== "ready" || s.inflight.length !== 1 || !this.underTaskLimit(s)) continue;
      const running = s.inflight[0];
      if (running.kind !== "map" || running.stopping) continue;
      return s;
    }
    return null;
  }

  protected pump(): void {
    if (this.terminated) return;
    // What the workers can take: an idle one anything, a busy one only a map chunk sent ahead. Once
    // neither is possible nothing behind can be sent, so a long queue is not walked on every call.
    const room = () => {
      const idle = this.idleSlotFor(null) !== null;
      return { idle, ahead: !idle && this.slotToSendAhead() !== null };
    };
    let { idle, ahead } = room();
    for (let qi = 0; qi < this.queue.length;) {
      if (!idle && !(ahead && this.queue.mapCount > 0)) break;
      const entry = this.queue.at(qi);
      if (isQueuedMap(entry)) {
        const g = entry.source;
        if (!g.hasMore) { this.queue.removeAt(qi); continue; }
        // A chunk is sent ahead to a busy worker, so that it never waits for the parent between
        // chunks (on a loaded machine the parent may take a while to be scheduled). Should another
        // worker go idle while it has not started, it is taken back (rebalance). A task timeout
        // counts from the moment a chunk starts running (announce), not while it waits there.
        const slot = this.idleSlotFor(null) ?? this.slotToSendAhead();
        if (!slot) { qi++; continue; }
        this.dispatch(entry.make(), slot);
        ({ idle, ahead } = room());
        continue;
      }
      if (entry.settled) { this.queue.removeAt(qi); continue; }
      const slot = idle ? this.idleSlotFor(entry) : null;
      if (!slot) { qi++; continue; }
      this.queue.removeAt(qi);
      this.dispatch(entry, slot);
      ({ idle, ahead } = room());
    }
    this.rebalance();
    this.maybeIdle();
  }

  /** Takes back map chunks sent ahead to busy workers while other workers have nothing to do. */
  protected rebalance(): void {
    if (this.terminated) return;
    let idle = 0;
    let moving = 0;
    for (let id = 0; id < this.targetSize; id++) {
      const s = this.slots[id];
      if (!s) continue;
      if (s.idle) idle++;
      for (const j of s.inflight) if (j.withdrawing) moving++;
    }
    if (idle === 0 || moving >= idle || this.queue.length > 0) return;
    let recheckIn = Infinity;
    for (let id = 0; id < this.targetSize && moving < idle; id++) {
      const s = this.slots[id];
      if (!s || s.state !== "ready" || s.inflight.length < 2) continue;
      const waiting = s.inflight[s.inflight.length - 1];
      if (waiting.kind !== "map" || waiting.stopping || waiting.withdrawing || waiting.settled) continue;
      // Not worth a round trip when the chunk is quick and the one running ahead of it is not slow
      // (yet): look again when it would count as slow, since no other event may come until it ends.
      const perItem = waiting.group?.msPerItem ?? null;
      const running = s.inflight[0];
      const slowAfter = perItem === null ? 0 : running.sentAt + 2 * perItem * itemCount(running) + 1 - Date.now();
      if (perItem !== null && perItem * itemCount(waiting) < 20 && slowAfter >= 0) {
        recheckIn = Math.min(recheckIn, slowAfter + 1);
        continue;
      }
      waiting.withdrawing = true;
      moving++;
      s.send({ t: "withdraw", ids: [waiting.id] });
    }
    if (recheckIn !== Infinity && this.rebalanceTimer === null) {
      this.rebalanceTimer = setTimeout(() => {
        this.rebalanceTimer = null;
        this.rebalance();
      }, recheckIn);
      this.rebalanceTimer.unref();
    }
  }

  /** A later look at chunks sent ahead (see rebalance). */
  protected rebalanceTimer: NodeJS.Timeout | null = null;

  protected encodeFor(slot: Slot, value: unknown): unknown {
    const shared = slot.transport.sharedMemory;
    return encodeHandles(value, { sharedMemory: shared, toProcess: !shared });
  }

  /** The message that sends a job to a worker. Throws if a value in it cannot be sent (see send-errors.ts). */
  protected jobMessage(job: Job, slot: Slot): { msg: JobMessage; transfer: ArrayBuffer[]; code: CodePlan | null } {
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
    // the code: what of it the worker lacks (recorded as held once the message went out)
    const code = job.code ? slot.code.plan(job.code, (v) => this.encodeDep(slot, job.code!, v)) : null;
    if (code) msg.code = code.message;
    return { msg, transfer, code };
  }

  private encodeDep(slot: Slot, code: PreparedCode, value: unknown): unknown {
    try {
      return this.encodeFor(slot, value);
    } catch (e) {
      const dep = code.bundle.deps.find((d) => "value" in d && d.value === value);
      throw new DependencyUnsendable((dep as { name?: string } | undefined)?.name ?? "?", e);
    }
  }

  protected dispatch(job: Job, slot: Slot): void {
    let prepared: ReturnType<PoolScheduler["jobMessage"]>;
    try {
      prepared = this.jobMessage(job, slot);
    } catch (e) {
      // a value in it cannot be sent (a getter threw, nested too deeply, ...): this call fails,
      // nothing went to the worker, and the pool goes on
      this.settleFail(job, sendError(slot.id, job.body, e));
      return;
    }
    const { msg, transfer, code } = prepared;
    job.slot = slot;
    job.triedOn.add(slot.id);
    job.sentAt = Date.now();
    slot.inflight.push(job);
    if (this.countsAsTask(job)) slot.jobsSinceSpawn++;
    if (slot.mayRunLeftovers && slot.inflight.length === 1) {
      // the worker is free, so the job should start at once; if it does not, leftover code of a
      // stopped task holds the worker's thread: stop that code (the job then runs)
      msg.ack = true;
      job.startTimer = setTimeout(() => {
        job.startTimer = null;
        if (job.slot !== slot || slot.state === "exited") return;
        slot.send({ t: "unstick" });
        slot.transport.forceInterrupt();
      }, this.opts.interruptGrace ?? 1000);
    }
    try {
      slot.send(msg, transfer, job);
    } catch (e) {
      // the transport's serializer refused it: fail this job only (it never reached the worker,
      // so it does not count towards maxTasksPerWorker either)
      slot.inflight.splice(slot.inflight.indexOf(job), 1);
      if (this.countsAsTask(job)) slot.jobsSinceSpawn--;
      this.clearTimers(job);
      job.slot = null;
      this.settleFail(job, sendError(slot.id, job.body, e, msg, slot.transport.sharedMemory));
      return;
    }
    if (code?.message.bundle) {
      code.commit();
      const st = this.stats[slot.id];
      if (st) st.bundlesSent++;
    }
    if (slot.inflight.length === 1) this.announce(job, slot);
  }

  /** Whether a job counts towards maxTasksPerWorker: not the initializer, nor the parts of a crashed chunk run again. */
  protected countsAsTask(job: Job): boolean {
    return job.kind !== "init" && !job.rerun;
  }

  /** The job at the head of a worker's list is running now: say so ("start" event). */
  protected announce(job: Job, slot: Slot): void {
    if (job.announced) return;
    job.announced = true;
    job.sentAt = Date.now();
    this.startClock(job);
    this.notify("task", { phase: "start", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, tag: job.tag });
  }

  /**
   * Starts a job's time-out clock, when it starts running: a job sent ahead to a busy worker waits
   * there for the one before it, and that wait is not its own running time.
   */
  protected startClock(job: Job): void {
    if (job.timeoutMs === undefined || job.timer || job.settled || job.stopping) return;
    const ms = job.timeoutMs;
    job.timer = setTimeout(() => {
      job.timer = null;
      void this.stopJobs([job], "timeout", (j, replaced) => new TaskTimeoutError(ms, { workerId: j.slot?.id, index: this.runningItem(j)?.index, workerReplaced: replaced }));
    }, ms);
  }

  /**
   * The map item a job's worker runs (or ran when it stopped or died), as far as is known: what
   * the worker said when it stopped, else what it published (see WorkerTransport.currentItem),
   * else the chunk's first item, as a lower bound. Undefined for jobs without items.
   */
  protected runningItem(job: Job): { index: number; exact: boolean } | undefined {
    const r = job.range;
    if (!r) return undefined;
    if (r[1] - r[0] <= 1) return { index: r[0], exact: true };
    if (job.stoppedAt !== undefined) return { index: job.stoppedAt, exact: true };
    const cur = job.slot?.transport.currentItem?.();
    if (cur && cur.job === job.id && cur.index >= r[0] && cur.index < r[1]) return { index: cur.index, exact: cur.exact };
    return { index: r[0], exact: false };
  }

  /** The item of a chunk of several items its worker published (see runningItem), or null. */
  protected publishedItem(job: Job): number | null {
    const r = job.range;
    const cur = r && r[1] - r[0] > 1 ? job.slot?.transport.currentItem?.() : null;
    return cur && cur.job === job.id ? cur.index : null;
  }

  /** After a job left its worker: the next one there (sent ahead) has begun. */
  protected announceHead(slot: Slot): void {
    const head = slot.inflight[0];
    // a job being taken back may be withdrawn before it starts: its answer ("withdrawn" or "started") decides
    if (head && !head.withdrawing && slot.state !== "exited") this.announce(head, slot);
  }

  protected settleOk(job: Job, value: unknown, ms: number): void {
    if (job.settled) return;
    job.settled = true;
    this.clearTimers(job);
    try {
      job.owner.ok(job, value, ms);
    } catch (e) {
      job.owner.fail(job, e as Error);
    }
  }

  protected settleFail(job: Job, e: Error): void {
    if (job.settled) return;
    job.settled = true;
    this.clearTimers(job);
    job.owner.fail(job, e);
  }

  protected clearTimers(job: Job): void {
    if (job.timer) { clearTimeout(job.timer); job.timer = null; }
    if (job.startTimer) { clearTimeout(job.startTimer); job.startTimer = null; }
  }

  /**
   * Withdraws jobs: queued ones are dropped, jobs waiting inside a worker are cancelled there,
   * running ones are interrupted (and their worker killed and replaced if it does not stop within
   * the grace period). Resolves when all of them are off their workers. A job that already
   * settled and left its worker is left alone (nothing is sent for it).
   */
  protected stopJobs(jobs: Job[], reason: StopReason, error: (j: Job, replaced: boolean) => Error): Promise<void> {
    const waits: Promise<void>[] = [];
    const bySlot = new Map<Slot, { running: Job | null; cancel: Job[] }>();
    for (const job of jobs) {
      if (job.settled && !job.slot) continue;
      if (!job.slot) {
        const i = this.queue.indexOf(job);
        if (i >= 0) this.queue.removeAt(i);
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
        slot.send({ t: "interrupt", running: running.id, cancel: cancel.map((j) => j.id) });
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
        slot.send({ t: "cancel", ids: cancel.map((j) => j.id) });
      }
    }
    return Promise.all(waits).then(() => {});
  }

  /** The job has left its worker (finished, failed, interrupted, cancelled, or the worker died). */
  protected offWorker(job: Job, replaced: boolean): void {
    const slot = job.slot;
    if (slot) {
      const i = slot.inflight.indexOf(job);
      if (i >= 0) slot.inflight.splice(i, 1);
    }
    if (job.graceTimer) { clearTimeout(job.graceTimer); job.graceTimer = null; }
    if (job.startTimer) { clearTimeout(job.startTimer); job.startTimer = null; }
    if (job.stopping) {
      this.settleFail(job, job.stopping.error(replaced));
    }
    job.slot = null;
    for (const w of job.offWaiters.splice(0)) w();
  }

  protected prepareWorker(slot: Slot): void {
    const st = this.stats[slot.id];
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
  }

  /**
   * The jobs of a worker that died. Jobs being stopped settle with their stop error, saying that
   * the worker was lost (whether the pool killed it or it died by itself). Jobs it had not
   * started go back to the queue. The running job is tried again if its retries allow (see
   * PoolOptions.retries), else it fails with WorkerCrashedError naming the item the worker was
   * on. A map chunk of several items is not run again whole: the items before that one finished
   * there already and did nothing wrong, so they go back as one chunk (run again, but not as a
   * retry); that item is retried alone (or, when the worker is only known to have reached it,
   * with the items after it); the items after it never ran and go back as a chunk of their own.
   */
  protected takeBackJobs(slot: Slot, e: WorkerExit, tail: string): void {
    const jobs = slot.inflight.splice(0);
    const again: Job[] = [];
    jobs.forEach((job, k) => {
      const running = k === 0;
      // a job being stopped is off its worker now, and that worker's state is gone
      if (job.stopping) { this.offWorker(job, true); return; }
      if (job.graceTimer) { clearTimeout(job.graceTimer); job.graceTimer = null; }
      if (job.settled) return;
      const item = running ? this.runningItem(job) : undefined;
      job.slot = null;
      if (!running) { again.push(job); return; } // never started: just send it elsewhere
      job.crashes++;
      if (!this.terminated && job.announced) {
        this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, outcome: "crashed", tag: job.tag });
      }
      if (!this.terminated && !this.brokenReason && job.pinned === null && job.crashes <= (job.retries ?? this.opts.retries ?? 0)) {
        this.clearTimers(job);
        job.announced = false; // its next attempt starts anew, with its own "start" event
        again.push(...(this.cutAtCulprit(job, item) ?? [job]));
        return;
      }
      const err = new WorkerCrashedError({
        workerId: slot.id, pid: slot.transport.kind === "process" ? slot.transport.pid : undefined,
        threadId: slot.transport.kind === "thread" ? slot.transport.threadId : undefined,
        exitCode: e.code, signal: e.signal, range: job.range ?? undefined, index: item?.index, indexExact: item?.exact,
        attempts: job.crashes, stderrTail: tail,
      });
      if (job.kind === "init") this.breakPool(`worker ${slot.id} died while running the initializer`, err);
      else this.settleFail(job, err);
    });
    // in their order, ahead of work not yet begun: the retried or cut-up job first
    if (again.length) this.queue.unshift(...again);
  }

  /**
   * A crashed map chunk of several items, cut where its worker died: the items before the culprit
   * (run again, no retry), the culprit alone as the retry (with the items after it when the
   * culprit is only known as "this one or a later one"), and the items after it (never run).
   * Null when there is nothing to cut (one item, or the culprit is unknown: the chunk is retried whole).
   */
  protected cutAtCulprit(job: Job, item: { index: number; exact: boolean } | undefined): Job[] | null {
    const r = job.range;
    if (job.kind !== "map" || !r || !item || !isChunkOwner(job.owner)) return null;
    const c = item.index;
    const retryEnd = item.exact ? c + 1 : r[1];
    if (c === r[0] && retryEnd === r[1]) return null;
    const cuts = [c, retryEnd].filter((at) => at > r[0] && at < r[1]);
    job.settled = true; // replaced by its parts: it never answers its caller itself
    const parts = job.owner.splitChunk(job, cuts);
    for (const part of parts) {
      part.rerun = true;
      if (part.range![0] === c) {
        // the culprit (or the part that starts with it): the retry
        part.crashes = job.crashes;
        for (const id of job.triedOn) part.triedOn.add(id);
      }
    }
    return parts;
  }

  protected breakPool(reason: string, cause: Error | null): void {
    if (this.brokenReason) return;
    this.brokenReason = reason;
    this.closed = true;
    const err = () => new PoolBrokenError(`the pool cannot run tasks: ${reason}`, cause ? { cause } : undefined);
    for (const entry of this.queue.takeAll()) {
      if (isQueuedMap(entry)) { entry.abort(err()); continue; }
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

  /**
   * Stops a call's jobs when its signal aborts. Returns the function that lets go of the signal,
   * to be called when the call settles: a signal shared by many calls would otherwise collect one
   * listener per call, each keeping its call's jobs and results alive.
   */
  protected bindSignal(signal: AbortSignal, jobs: () => Job[], fail: (e: Error) => void): () => void {
    let bound = true;
    const onAbort = () => {
      if (!bound) return;
      bound = false;
      const e = abortError(signal);
      fail(e);
      void this.stopJobs(jobs(), "abort", () => e);
      this.pump();
    };
    if (signal.aborted) queueMicrotask(onAbort);
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => {
      bound = false;
      signal.removeEventListener("abort", onAbort);
    };
  }

  protected hasWork(): boolean {
    if (this.queue.length) return true;
    for (const s of this.slots) if (s && s.inflight.some((j) => j.kind !== "init")) return true;
    return false;
  }

  protected whenIdle(): Promise<void> {
    if (!this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  protected maybeIdle(): void {
    if (!this.hasWork()) this.resolveIdle();
    this.updateRef();
  }

  protected resolveIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

/** The number of items of a map chunk (1 for other jobs). */
function itemCount(job: Job): number {
  return job.range ? job.range[1] - job.range[0] : 1;
}
