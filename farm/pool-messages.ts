/**
 * The layer of a Pool that reads what workers say: finished jobs (results decoded and handed to
 * their callers, or errors tied to the worker and item), stopped and moved jobs, captured output,
 * calls on handles (locks, queues, ...) served here, and memory figures.
 */
import { InterruptedError, RemoteError } from "./errors.js";
import type { OutputEvent, PoolEvents } from "./events.js";
import { decodeHandles, serveHandleCall } from "./handles.js";
import type { WorkerToParent } from "./messages.js";
import { PoolScheduler } from "./pool-scheduler.js";
import { releaseHoldsWhenThreadEnds } from "./sync/holders.js";
import { serializeError } from "./worker/serialize-error.js";
import type { Slot } from "./worker-slot.js";

export abstract class PoolMessages extends PoolScheduler {
  protected onMessage(slot: Slot, m: WorkerToParent): void {
    switch (m.t) {
      case "ready":
        // a thread takes locks on shared memory without asking us: give back what it holds when it ends
        if (slot.transport.kind === "thread") releaseHoldsWhenThreadEnds(slot.transport.threadId, slot.abort.signal);
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
        this.announce(job, slot); // if its "started" answer has not come yet
        this.offWorker(job, false);
        this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, ms: m.ms, outcome: m.ok ? "ok" : "error", tag: job.tag });
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
      case "started": {
        const job = slot.inflight.find((j) => j.id === m.id);
        if (!job) break;
        if (job.startTimer) { clearTimeout(job.startTimer); job.startTimer = null; }
        job.withdrawing = false;
        if (slot.inflight[0] === job) this.announce(job, slot);
        break;
      }
      case "withdrawn": {
        const job = slot.inflight.find((j) => j.id === m.id);
        if (!job) break;
        job.withdrawing = false;
        if (this.countsAsTask(job)) slot.jobsSinceSpawn--;
        this.offWorker(job, false);
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
          job.stoppedAt = m.index;
          this.announce(job, slot); // it ran
          const st = this.stats[slot.id];
          if (st) st.busyMs += m.ms;
          slot.mayRunLeftovers = true;
        }
        this.offWorker(job, false);
        if (job.announced) {
          this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, ms: m.t === "interrupted" ? m.ms : 0, outcome: m.t, tag: job.tag });
        }
        if (!job.settled) this.settleFail(job, new InterruptedError("the task was stopped", { workerId: slot.id, index: this.runningItem(job)?.index }));
        this.afterJob(slot);
        break;
      }
      case "out": {
        const ev: OutputEvent = {
          workerId: slot.id, pid: slot.transport.pid, threadId: slot.transport.threadId, stream: m.stream, text: m.text,
          lines: m.text.slice(0, -1).split("\n"), job: m.job, index: m.index, raw: false,
          tag: m.job === null ? undefined : slot.inflight.find((j) => j.id === m.job)?.tag,
        };
        if (m.stream === "stderr") slot.noteStderr(m.text);
        this.notify("output", ev);
        break;
      }
      case "hcall": {
        const send = (ok: boolean, value: unknown) => slot.send(ok
          ? { t: "hreply", cid: m.cid, ok: true, value }
          : { t: "hreply", cid: m.cid, ok: false, error: serializeError(value) });
        serveHandleCall(m.kind, m.hid, m.method, m.args, { workerId: slot.id, isThread: slot.transport.sharedMemory, signal: slot.abort.signal })
          .then((v) => send(true, v), (e) => send(false, e))
          .catch((e) => send(false, e)); // the result could not be cloned
        break;
      }
      case "unreadable":
        this.onUnreadable(slot, m.seq, m.error);
        break;
      case "stats": {
        slot.rss = m.rss;
        const ws = this.statsWaiters.get(slot);
        this.statsWaiters.delete(slot);
        for (const w of ws ?? []) w(m.rss);
        break;
      }
    }
  }

  /**
   * The worker could not read a message (it failed to deserialize it): the job it carried fails
   * with a clear error, a handle call it answered gets an error answer, and the pool goes on.
   */
  private onUnreadable(slot: Slot, seq: number, error: string): void {
    const lost = slot.unreadable(seq);
    // a process worker's channel holds the messages that came with the unreadable one until more bytes come
    slot.send({ t: "nudge" });
    if (!lost) return;
    const why = `worker ${slot.id} could not read the message it was sent (${error.replace(/\.+$/, "")}): ` +
      "the values in it are probably nested too deeply for the worker; send flatter data";
    if ("cid" in lost) {
      slot.send({ t: "hreply", cid: lost.cid, ok: false, error: serializeError(new TypeError(`the answer to a call on a handle: ${why}`)) });
      return;
    }
    const job = lost.job;
    if (this.countsAsTask(job)) slot.jobsSinceSpawn--;
    this.offWorker(job, false);
    if (job.announced) {
      this.notify("task", { phase: "finish", workerId: slot.id, pid: slot.transport.pid, job: job.id, kind: job.kind, range: job.range, ms: 0, outcome: "error", tag: job.tag });
    }
    this.settleFail(job, new TypeError(`the task could not be started: ${why}`));
    this.afterJob(slot);
  }

  protected afterJob(slot: Slot): void {
    this.announceHead(slot);
    if (slot.onDrained && slot.inflight.length === 0) {
      const leave = slot.onDrained;
      slot.onDrained = null;
      leave();
    }
    // maxTasksPerWorker: the worker was sent no more than it may run (see underTaskLimit); once
    // they are done it is replaced, also after close() while queued work still needs it
    if (!this.underTaskLimit(slot) && slot.inflight.length === 0 && slot.state === "ready" && !this.terminated && !this.brokenReason) {
      void this.retire(slot).then(() => {
        const wanted = !this.terminated && !this.brokenReason && slot.id < this.targetSize && this.slots[slot.id] === slot;
        if (wanted && (!this.closed || this.hasWork())) this.startWorker(slot.id, true);
      });
    }
    this.pump();
  }

  /**
   * Events go to their listeners; worker output is also written to this process's stdout/stderr
   * when the pool's `output` option says so ("inherit", or "auto" while nobody listens).
   */
  protected override notify<K extends keyof PoolEvents>(event: K, ...args: PoolEvents[K]): void {
    // decided before the event goes out: a `once` listener (or one that removes itself) is gone
    // afterwards, and its line must not be printed as well
    const print = event === "output" && this.printsOutput();
    super.notify(event, ...args);
    if (!print) return;
    const ev = args[0] as OutputEvent;
    (ev.stream === "stderr" ? process.stderr : process.stdout).write(ev.text);
  }

  /** Whether worker output is written to this process's stdout/stderr now (see PoolOptions.output). */
  private printsOutput(): boolean {
    const mode = this.opts.output ?? "auto";
    return mode === "inherit" || (mode === "auto" && this.listenerCount("output") === 0);
  }
}
