/**
 * pool.interrupt() on real workers: synchronous infinite loops stop without killing the worker
 * (its globals survive), awaiting tasks stop at once, queued tasks are dropped, and a worker stuck
 * in native code is killed and replaced after the grace period. For process and thread workers.
 */
import { describe, expect, it } from "vitest";
import { InterruptedError, Lock, Pool, TaskTimeoutError } from "../../dist/farm/index.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * For the tests that a stoppable worker is stopped, not replaced: a grace period a loaded machine
 * cannot overrun (the default 1 s was overrun at a load average of 6), so a replacement means the
 * worker really could not be stopped.
 */
const GENEROUS_GRACE = 10_000;

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("stops while(true){} in every worker, keeps the workers and their state, drops queued work", async () => {
      await using pool = new Pool({ workers: 2, threads, interruptGrace: GENEROUS_GRACE });
      await pool.run(() => { (globalThis as any).state = `kept-${process.env.TSPOOL_WORKER_ID}`; });
      const before = pool.status().workers.map((w) => [w.pid, w.threadId]);
      const spinning = pool.map((x: number) => { if (x < 100) for (;;) { /* spin */ } return x; }, [1, 2, 3, 4, 5, 6], { chunksize: 1 });
      const queued = pool.apply(() => "never runs");
      spinning.catch(() => {});
      queued.catch(() => {});
      await sleep(300);
      expect(pool.status().workers.map((w) => w.state)).toEqual(["busy", "busy"]);
      await pool.interrupt();
      const err = await spinning.catch((e) => e);
      expect(err).toBeInstanceOf(InterruptedError);
      expect(err.workerReplaced).toBe(false);
      await expect(queued).rejects.toBeInstanceOf(InterruptedError);
      expect(pool.status().workers.map((w) => w.state)).toEqual(["idle", "idle"]);
      expect(await pool.run(() => (globalThis as any).state)).toEqual(["kept-0", "kept-1"]);
      expect(pool.status().workers.map((w) => [w.pid, w.threadId])).toEqual(before);
      expect(pool.status().workers.map((w) => w.restarts)).toEqual([0, 0]);
      expect(await pool.map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
    });

    it("stops loops in code the worker already had and in timer callbacks without the worker dying", async () => {
      // Node aborts a process whose JavaScript is terminated directly inside a macrotask callback
      // ("async hook stack has become corrupted"): a task whose code was already cached started
      // inside one, as did the callbacks of timers a task set.
      await using pool = new Pool({ workers: 2, threads, interruptGrace: GENEROUS_GRACE });
      await pool.run(() => { (globalThis as any).state = "kept"; });
      const spin = (n: number) => { while (n >= 0) { /* spin */ } return n; };
      const stops: Array<() => Promise<unknown>> = [
        () => pool.map(spin, Array.from({ length: 40 }, (_, i) => i), { chunksize: 1 }), // 40 queued, cached code
        () => pool.map(spin, Array.from({ length: 40 }, (_, i) => i), { chunksize: 1 }),
        () => pool.apply(() => new Promise(() => setTimeout(() => { for (;;) { /* spin */ } }, 10))),
        () => pool.apply(() => new Promise(() => setInterval(() => { for (;;) { /* spin */ } }, 10))),
        () => pool.apply(() => new Promise(() => setImmediate(() => { for (;;) { /* spin */ } }))),
      ];
      for (const start of stops) {
        const task = start();
        task.catch(() => {});
        await sleep(300);
        await pool.interrupt();
        expect(await task.catch((e) => e)).toBeInstanceOf(InterruptedError);
      }
      expect(pool.status().workers.map((w) => w.restarts)).toEqual([0, 0]);
      expect(await pool.run(() => (globalThis as any).state)).toEqual(["kept", "kept"]);
    });

    it("clears the intervals a stopped task set, and keeps those of a task that ended normally", async () => {
      await using pool = new Pool({ workers: 1, threads, interruptGrace: GENEROUS_GRACE });
      await pool.run(() => 0); // started: the task below runs at once (on a loaded machine a worker can take 100 ms to start)
      const stopped = pool.apply(() => new Promise(() => {
        (globalThis as any).stoppedTicks = 0;
        setInterval(() => (globalThis as any).stoppedTicks++, 5);
      }));
      stopped.catch(() => {});
      await sleep(100);
      await pool.interrupt();
      await expect(stopped).rejects.toBeInstanceOf(InterruptedError);
      await pool.run(() => { (globalThis as any).keptTicks = 0; setInterval(() => (globalThis as any).keptTicks++, 5); });
      const read = () => pool.run(() => [(globalThis as any).stoppedTicks, (globalThis as any).keptTicks]);
      const [[stoppedBefore, keptBefore]] = await read();
      await sleep(300);
      const [[stoppedAfter, keptAfter]] = await read();
      expect(stoppedBefore).toBeGreaterThan(0);
      expect(stoppedAfter).toBe(stoppedBefore);
      expect(keptAfter).toBeGreaterThan(keptBefore);
    });

    it("stops a task printing in a tight loop; output capture and state survive", async () => {
      await using pool = new Pool({ workers: 1, threads, interruptGrace: GENEROUS_GRACE });
      await pool.run(() => { (globalThis as any).kept = "yes"; });
      const lines: string[] = [];
      pool.on("output", (e) => lines.push(...e.lines));
      const spam = pool.apply(() => { let i = 0; for (;;) console.log("spam", i++); });
      spam.catch(() => {});
      await sleep(200);
      await pool.interrupt();
      await expect(spam).rejects.toBeInstanceOf(InterruptedError);
      expect(lines.length).toBeGreaterThan(10);
      expect(lines.slice(0, 3)).toEqual(["spam 0", "spam 1", "spam 2"]);
      lines.length = 0;
      expect(await pool.apply(() => { console.log("after"); return (globalThis as any).kept; })).toBe("yes");
      expect(lines.filter((l) => !l.startsWith("spam"))).toEqual(["after"]);
      expect(pool.status().workers[0].restarts).toBe(0);
    });

    it("stops a loop that runs after an await, and a task that is only awaiting", async () => {
      await using pool = new Pool({ workers: 1, threads, interruptGrace: GENEROUS_GRACE });
      const afterAwait = pool.apply(async () => { await new Promise((r) => setTimeout(r, 10)); for (;;) { /* spin */ } });
      afterAwait.catch(() => {});
      await sleep(200);
      await pool.interrupt();
      await expect(afterAwait).rejects.toBeInstanceOf(InterruptedError);
      const waiting = pool.apply(() => new Promise((r) => setTimeout(() => r("late"), 20_000)));
      waiting.catch(() => {});
      await sleep(100);
      await pool.interrupt();
      await expect(waiting).rejects.toBeInstanceOf(InterruptedError);
      expect(await pool.apply(() => "responsive")).toBe("responsive");
      expect(pool.status().workers[0].restarts).toBe(0);
    });

    it("leftover code of a task stopped while it awaited cannot hold the worker: the next task runs, state kept", async () => {
      await using pool = new Pool({ workers: 1, threads, interruptGrace: GENEROUS_GRACE });
      await pool.run(() => { (globalThis as any).kept = "yes"; });
      let awaiting!: () => void;
      const isAwaiting = new Promise<void>((r) => { awaiting = r; });
      pool.on("output", (e) => { if (e.lines.includes("awaiting")) awaiting(); });
      const task = pool.apply(async () => {
        console.log("awaiting");
        await new Promise((r) => setTimeout(r, 300));
        for (;;) { /* runs on after the task was stopped, unless stopped itself */ }
      });
      task.catch(() => {});
      await isAwaiting;
      await pool.interrupt();
      await expect(task).rejects.toBeInstanceOf(InterruptedError);
      await sleep(600); // the leftover loop holds the worker's thread by now
      expect(await pool.run(() => (globalThis as any).kept)).toEqual(["yes"]);
      expect(await pool.apply(() => 42)).toBe(42);
      expect(pool.status().workers[0].restarts).toBe(0);
    });

    it("an interrupt that reaches the worker before the task it stops has started there stops that task, without a replacement", async () => {
      await using pool = new Pool({ workers: 1, threads, interruptGrace: GENEROUS_GRACE });
      await pool.run(() => { (globalThis as any).kept = "yes"; });
      // A task stopped while it awaited leaves code behind that spins and holds the worker's thread...
      const first = pool.apply(async () => { await new Promise((r) => setTimeout(r, 50)); for (;;) { /* leftover */ } });
      first.catch(() => {});
      await sleep(20);
      await pool.interrupt();
      await expect(first).rejects.toBeInstanceOf(InterruptedError);
      await sleep(150);
      // ...so the next task is sent but cannot start; the interrupt frees the thread and must stop it too.
      const second = pool.apply(() => new Promise((r) => setTimeout(() => r("late"), 20_000)));
      second.catch(() => {});
      await sleep(30);
      await pool.interrupt();
      await expect(second).rejects.toBeInstanceOf(InterruptedError);
      expect(await pool.apply(() => (globalThis as any).kept)).toBe("yes");
      expect(pool.status().workers[0].restarts).toBe(0);
    });

    it("a stopped task's continuation sees its job signal aborted; later tasks get a fresh one", async () => {
      await using pool = new Pool({ workers: 1, threads, interruptGrace: GENEROUS_GRACE });
      await pool.apply(() => 0); // the worker is up
      const task = pool.apply(async () => {
        const signal: AbortSignal = (globalThis as any).__tspoolWorker.jobSignal();
        (globalThis as any).ticks = 0;
        while (!signal.aborted) { (globalThis as any).ticks++; await new Promise((r) => setTimeout(r, 5)); }
        (globalThis as any).stopReason = `${signal.reason.name}: ${signal.reason.message}`;
      });
      task.catch(() => {});
      await sleep(100);
      await pool.interrupt();
      await expect(task).rejects.toBeInstanceOf(InterruptedError);
      await sleep(50);
      const [ticks, reason] = await pool.apply(() => [(globalThis as any).ticks, (globalThis as any).stopReason]);
      expect(ticks).toBeGreaterThan(0);
      expect(reason).toMatch(/^InterruptedError: the task was stopped/);
      await sleep(50);
      expect(await pool.apply(() => (globalThis as any).ticks)).toBe(ticks);
      expect(await pool.apply(() => (globalThis as any).__tspoolWorker.jobSignal().aborted)).toBe(false);
    });

    it("a timed-out or cancelled task's signal aborts too, and the lock wait it was in is withdrawn", async () => {
      // the lock stays held, so the task always times out; the limit only needs to outlast a slow start-up
      await using pool = new Pool({ workers: 1, threads, taskTimeout: 1000 });
      await pool.apply(() => 0); // the worker is up
      const lock = new Lock();
      await lock.acquire();
      const late = pool.apply(async (l: Lock) => {
        const signal: AbortSignal = (globalThis as any).__tspoolWorker.jobSignal();
        (globalThis as any).lateAcquire = await l.acquire().then((ok) => `acquired ${ok}`, (e: Error) => `${e.name}: ${e.message}`);
        (globalThis as any).lateSignal = signal.aborted;
      }, [lock]);
      await expect(late).rejects.toBeInstanceOf(TaskTimeoutError);
      await lock.release();
      await sleep(50);
      expect(await lock.locked()).toBe(false);
      expect(await pool.apply(() => [(globalThis as any).lateAcquire, (globalThis as any).lateSignal])).toEqual([expect.stringMatching(/^InterruptedError: the task was stopped/), true]);

      const ac = new AbortController();
      const cancelled = pool.apply(async () => {
        const signal: AbortSignal = (globalThis as any).__tspoolWorker.jobSignal();
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        (globalThis as any).cancelSeen = signal.aborted;
      }, [], { signal: ac.signal });
      cancelled.catch(() => {});
      await sleep(50);
      ac.abort(new Error("changed my mind"));
      await expect(cancelled).rejects.toThrow("changed my mind");
      await sleep(20);
      expect(await pool.apply(() => (globalThis as any).cancelSeen)).toBe(true);
    });
  });
}

describe("a worker that cannot be interrupted", () => {
  it("is killed and replaced after the grace period; the other worker keeps its state", async () => {
    await using pool = new Pool({ workers: 2, interruptGrace: 500 });
    await pool.run(() => { (globalThis as any).state = "kept"; });
    const pids = pool.status().workers.map((w) => w.pid);
    // a synchronous child process blocks the worker inside native code, where JS cannot be stopped
    const started = new Promise<void>((resolve) => pool.on("output", (e) => { if (e.lines.includes("blocking now")) resolve(); }));
    const stuck = pool.run({ fn: "() => { console.log('blocking now'); cp.execFileSync('sleep', ['20']); }", deps: [{ name: "cp", import: "node:child_process", imported: "*" }] }, { targets: [1] });
    stuck.catch(() => {});
    await started;
    await sleep(50);
    await pool.interrupt();
    const err = await stuck.catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect(err.workerReplaced).toBe(true);
    expect(err.message).toMatch(/did not stop in time and was replaced/);
    const after = pool.status().workers;
    expect(after[0].pid).toBe(pids[0]);
    expect(after[1].pid).not.toBe(pids[1]);
    expect(after[1].restarts).toBe(1);
    expect(await pool.run(() => (globalThis as any).state ?? "fresh")).toEqual(["kept", "fresh"]);
  });
});
