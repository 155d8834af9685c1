/**
 * Scheduling rules that map's chunks sent ahead to busy workers must respect: a task's time-out
 * counts from when it starts running in its worker (not while it waits there behind another), and
 * maxTasksPerWorker bounds the tasks (map chunks included) a worker runs before it is replaced.
 * Real process and thread workers.
 */
import { describe, expect, it } from "vitest";
import { InterruptedError, Pool, TaskTimeoutError } from "../../dist/farm/index.js";

const sleepThen = async (x: number) => { await new Promise((r) => setTimeout(r, 1000)); return x; };

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("a time-out counts from when the task starts, not while it waits behind the task before it", async () => {
      await using pool = new Pool({ workers: 2, threads });
      await pool.run(() => 0); // both workers up
      // each item takes 1 s, under the 1.7 s limit; items 2 and 3 are sent ahead and wait ~1 s first
      expect(await pool.map(sleepThen, [0, 1, 2, 3], { timeout: 1700 })).toEqual([0, 1, 2, 3]);

      await using limited = new Pool({ workers: 2, threads, taskTimeout: 1700 });
      await limited.run(() => 0);
      expect(await limited.map(sleepThen, [0, 1, 2, 3])).toEqual([0, 1, 2, 3]);

      // a task sent ahead still has its clock: it starts when the task runs
      const err = await limited.map(async (x: number) => {
        if (x >= 2) await new Promise(() => {}); // never settles
        await new Promise((r) => setTimeout(r, 300));
        return x;
      }, [0, 1, 2, 3]).catch((e) => e);
      expect(err).toBeInstanceOf(TaskTimeoutError);
      expect([2, 3]).toContain(err.index);
      expect(err.workerReplaced).toBe(false);
    });

    it("the time-out or interrupt of a chunk of several items names the item that was running, not the chunk's first", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const spinAt3 = (x: number) => { if (x === 3) for (;;) { /* spin */ } return x; };
      const timedOut = await pool.map(spinAt3, Array.from({ length: 10 }, (_, i) => i), { chunksize: 5, timeout: 300 }).catch((e) => e);
      expect(timedOut).toBeInstanceOf(TaskTimeoutError);
      expect(timedOut.index).toBe(3);
      expect(timedOut.message).toMatch(/\(worker 0, item 3\)$/);

      const stuckAt7 = async (x: number) => { if (x === 7) await new Promise(() => {}); return x; };
      const running = pool.map(stuckAt7, Array.from({ length: 10 }, (_, i) => i), { chunksize: 5 }).catch((e) => e);
      for (let i = 0; i < 400 && pool.status().workers[0].current?.item !== 7; i++) await new Promise((r) => setTimeout(r, 25));
      await pool.interrupt();
      const interrupted = await running;
      expect(interrupted).toBeInstanceOf(InterruptedError);
      expect(interrupted.index).toBe(7);
      expect(interrupted.workerReplaced).toBe(false);
    });

    it("maxTasksPerWorker holds during a map: no worker runs more chunks than that before it is replaced", async () => {
      await using pool = new Pool({ workers: 2, threads, maxTasksPerWorker: 2 });
      const whoAmI = () => `${process.pid}:${require("node:worker_threads").threadId}`;
      const perWorker = (ids: string[]) => {
        const n = new Map<string, number>();
        for (const id of ids) n.set(id, (n.get(id) ?? 0) + 1);
        return [...n.values()];
      };
      const one = perWorker(await pool.map(whoAmI, Array.from({ length: 16 }, (_, i) => i), { chunksize: 1 }));
      expect(Math.max(...one)).toBeLessThanOrEqual(2);
      expect(one.reduce((a, b) => a + b, 0)).toBe(16);
      expect(one.length).toBeGreaterThanOrEqual(8);

      // a chunk is one task, however many items it holds
      const async = perWorker(await pool.map(async (x: number) => {
        await new Promise((r) => setTimeout(r, 5));
        return `${process.pid}:${require("node:worker_threads").threadId}`;
      }, Array.from({ length: 24 }, (_, i) => i), { chunksize: 4 }));
      expect(Math.max(...async)).toBeLessThanOrEqual(2 * 4);
      expect(async.length).toBeGreaterThanOrEqual(3);
      // every worker of the first map but the first two was a replacement
      const restarts = pool.status().workers.reduce((a, w) => a + w.restarts, 0);
      expect(restarts).toBeGreaterThanOrEqual(one.length - 2);
    });

    if (!threads) {
      it("a chunk whose worker had to be killed (stuck in native code past its time-out) names the item it was stuck in", async () => {
        await using pool = new Pool({ workers: 1, interruptGrace: 300 });
        const err = await pool.map((x: number) => {
          if (x === 6) require("node:child_process").execSync("sleep 5");
          return x;
        }, Array.from({ length: 10 }, (_, i) => i), { chunksize: 10, timeout: 500 }).catch((e) => e);
        expect(err).toBeInstanceOf(TaskTimeoutError);
        expect(err.workerReplaced).toBe(true);
        expect(err.index).toBe(6);
      });
    }

    it("a call that could not be sent to a worker does not count towards its maxTasksPerWorker", async () => {
      await using pool = new Pool({ workers: 1, threads, maxTasksPerWorker: 1 });
      const first = await pool.apply(() => `${process.pid}:${require("node:worker_threads").threadId}`);
      const err = await pool.apply((f: unknown) => typeof f, [() => "not cloneable"]).catch((e) => e);
      expect(err.message).toMatch(/argument 0 could not be sent to worker 0/);
      // the replacement worker still takes work (it was sent one task, which never reached it)
      const next = pool.apply(() => `${process.pid}:${require("node:worker_threads").threadId}`);
      const settled = await Promise.race([next, new Promise((r) => setTimeout(() => r("still waiting"), 20_000))]);
      expect(settled).not.toBe("still waiting");
      expect(settled).not.toBe(first);
    });
  });
}
