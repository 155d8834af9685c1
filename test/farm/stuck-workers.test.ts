/**
 * Workers that cannot be stopped, and workers that die while being stopped. A task blocked in a
 * native call (opening a FIFO nobody writes to) ignores interrupts: after the grace period the
 * pool settles the task, reports the worker as replaced and gives its id a new worker, for
 * process workers (killed) and thread workers (abandoned: Node cannot end a thread inside a
 * system call), and terminate() does not wait on it. The FIFO is opened for writing at the end,
 * which lets any abandoned thread end. Real process and thread workers.
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InterruptedError, Pool, TaskTimeoutError } from "../../dist/farm/index.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** true if the promise settled within ms (a generous bound: without the fix these never settle). */
const settlesWithin = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true, () => true), sleep(ms).then(() => false)]);

function makeFifo(): { path: string; release(): void } {
  const path = join(mkdtempSync(join(tmpdir(), "tspool-fifo-")), "nobody-writes");
  execFileSync("mkfifo", [path]);
  return {
    path,
    // a writer showing up wakes every reader blocked in open(); fails (ENXIO) when none is left
    release() {
      for (let i = 0; i < 5; i++) {
        try { closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)); } catch { return; }
      }
    },
  };
}

/** A task that says so and then blocks in open(2) until somebody opens the FIFO for writing. */
const blockOn = (fifo: string) => ({
  fn: `() => { console.log("blocking now"); fs.openSync(${JSON.stringify(fifo)}, "r"); return "opened"; }`,
  deps: [{ name: "fs", import: "node:fs", imported: "*" }],
});

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("a worker blocked in a native call is given up after the grace period; interrupt, time-out, terminate and close+join all settle", async () => {
      const fifo = makeFifo();
      try {
        const pool = new Pool({ workers: 2, threads, interruptGrace: 300 });
        await pool.run(() => { (globalThis as any).state = "kept"; });
        const before = pool.status().workers.map((w) => [w.pid, w.threadId]);
        let blocking!: () => void;
        const isBlocking = new Promise<void>((r) => { blocking = r; });
        pool.on("output", (e) => { if (e.lines.includes("blocking now")) blocking(); });

        const stuck = pool.run(blockOn(fifo.path), { targets: [1] });
        stuck.catch(() => {});
        await isBlocking;
        await sleep(50);
        expect(await settlesWithin(pool.interrupt(), 20_000)).toBe(true);
        const err = await stuck.catch((e) => e);
        expect(err).toBeInstanceOf(InterruptedError);
        expect(err.workerReplaced).toBe(true);
        expect(err.message).toMatch(/did not stop in time and was replaced/);
        const after = pool.status().workers;
        expect([after[0].pid, after[0].threadId]).toEqual(before[0]);
        expect([after[1].pid, after[1].threadId]).not.toEqual(before[1]);
        expect(after[1].restarts).toBe(1);
        expect(await pool.run(() => (globalThis as any).state ?? "fresh")).toEqual(["kept", "fresh"]);

        const late = pool.apply(blockOn(fifo.path), [], { timeout: 500 });
        expect(await settlesWithin(late, 20_000)).toBe(true);
        const timedOut: any = await late.catch((e) => e);
        expect(timedOut).toBeInstanceOf(TaskTimeoutError);
        expect(timedOut.workerReplaced).toBe(true);
        expect(await pool.map((x: number) => x * 2, [1, 2, 3])).toEqual([2, 4, 6]);

        const again = pool.apply(blockOn(fifo.path));
        again.catch(() => {});
        await sleep(300);
        expect(await settlesWithin(pool.terminate(), 20_000)).toBe(true);
        await expect(again).rejects.toThrow(/terminated/);

        // close() + join(): join waits for the task, which times out; its stuck worker is not waited on
        const closing = new Pool({ workers: 1, threads, taskTimeout: 500, interruptGrace: 300 });
        const last = closing.apply(blockOn(fifo.path));
        last.catch(() => {});
        closing.close();
        expect(await settlesWithin(closing.join(), 20_000)).toBe(true);
        await expect(last).rejects.toBeInstanceOf(TaskTimeoutError);
      } finally {
        fifo.release();
      }
    });
  });
}

describe("a worker that dies while its task is being interrupted", () => {
  it("makes the task's InterruptedError say the worker was replaced", async () => {
    const fifo = makeFifo();
    try {
      await using pool = new Pool({ workers: 1, interruptGrace: 20_000 });
      let blocking!: () => void;
      const isBlocking = new Promise<void>((r) => { blocking = r; });
      pool.on("output", (e) => { if (e.lines.includes("blocking now")) blocking(); });
      const task = pool.apply(blockOn(fifo.path));
      task.catch(() => {});
      await isBlocking;
      const pid = pool.status().workers[0].pid;
      const stopping = pool.interrupt();
      await sleep(100);
      process.kill(pid, "SIGKILL"); // as a terminal's Ctrl-C reaching the whole process group would
      expect(await settlesWithin(stopping, 20_000)).toBe(true);
      const err: any = await task.catch((e) => e);
      expect(err).toBeInstanceOf(InterruptedError);
      expect(err.workerReplaced).toBe(true);
      expect(err.message).toMatch(/its worker died meanwhile and was replaced/);
      expect(await pool.apply(() => process.pid)).not.toBe(pid);
      expect(pool.status().workers[0].restarts).toBe(1);
    } finally {
      fifo.release();
    }
  });
});
