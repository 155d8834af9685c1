/**
 * Thread workers (threads: true): the same API in worker threads, real shared memory with the
 * parent, per-worker state, and a thread that exits mid-task being replaced.
 */
import { describe, expect, it } from "vitest";
import { Pool, RemoteError, WorkerCrashedError } from "../../dist/farm/index.js";

describe("thread workers", () => {
  it("run the API with persistent per-thread state and distinct thread ids in this process", async () => {
    await using pool = new Pool({ workers: 2, threads: true });
    const ids = await pool.run({
      fn: "() => { globalThis.mine = wt.threadId; return [process.pid, wt.threadId, wt.isMainThread]; }",
      deps: [{ name: "wt", import: "node:worker_threads", imported: "*" }],
    });
    expect(ids.map((x) => x[0])).toEqual([process.pid, process.pid]);
    expect(ids.map((x) => x[2])).toEqual([false, false]);
    expect(new Set(ids.map((x) => x[1])).size).toBe(2);
    expect(pool.status().workers.map((w) => [w.kind, w.threadId])).toEqual(ids.map((x) => ["thread", x[1]]));
    expect(await pool.run(() => (globalThis as any).mine)).toEqual(ids.map((x) => x[1]));
    const nums = Array.from({ length: 10_000 }, (_, i) => i);
    expect(await pool.map((x: number) => x * 2, nums)).toEqual(nums.map((x) => x * 2));
    expect(await pool.starmap((a: string, b: string) => a + b, [["a", "b"], ["c", "d"]])).toEqual(["ab", "cd"]);
    await expect(pool.apply(() => { throw new SyntaxError("from a thread"); })).rejects.toBeInstanceOf(RemoteError);
  });

  it("share memory with the parent: Atomics updates from both threads land in the parent's buffer", async () => {
    await using pool = new Pool({ workers: 2, threads: true });
    const sab = new SharedArrayBuffer(8);
    const counts = await pool.run((buf: SharedArrayBuffer) => {
      const a = new Int32Array(buf);
      for (let i = 0; i < 10_000; i++) Atomics.add(a, 0, 1);
      return Atomics.load(a, 0);
    }, { args: [sab] });
    expect(new Int32Array(sab)[0]).toBe(20_000);
    expect(Math.max(...counts)).toBe(20_000);
  });

  it("a thread over its memory limit fails the task with the reason and is replaced", async () => {
    await using pool = new Pool({ workers: 1, threads: true, resourceLimits: { maxOldGenerationSizeMb: 16 } });
    const err = await pool.apply(() => { const keep: number[][] = []; for (;;) keep.push(new Array(1e5).fill(1)); }).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.signal).toBe("ERR_WORKER_OUT_OF_MEMORY");
    expect(err.message).toMatch(/JS heap out of memory/);
    expect(await pool.apply(() => "replaced")).toBe("replaced");
  });

  it("a thread that exits mid-task fails the task with WorkerCrashedError and is replaced", async () => {
    await using pool = new Pool({ workers: 1, threads: true });
    const first = pool.status().workers[0].threadId;
    const err = await pool.apply(() => process.exit(7)).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.exitCode).toBe(7);
    expect(err.threadId).toBe(first);
    expect(await pool.apply(() => "replacement works")).toBe("replacement works");
    expect(pool.status().workers[0].threadId).not.toBe(first);
  });
});
