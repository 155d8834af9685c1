/**
 * Dependencies are cached per worker by content key, not per bundle: a new bundle (another cell's
 * file name, another function) sends in full only the dependencies its worker does not hold yet,
 * a worker holds one version per global name, and a replacement worker gets everything again.
 * Dependency values are snapshots taken when a call is made: each call gets a fresh copy on every
 * worker (a replacement worker too), whatever earlier tasks did to theirs; shared memory and
 * handles stay shared.
 * What a worker received is read from the worker itself (globalThis[Symbol.for("tspool.workerCode")]).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool, Value } from "../../dist/farm/index.js";

interface Counts { bundles: number; dependencies: number; received: number }

const COUNTS = { fn: "() => globalThis[Symbol.for('tspool.workerCode')]()" };

const big = Array.from({ length: 200_000 }, (_, i) => i * 1.5);

for (const threads of [false, true]) {
  describe(`dependency cache (${threads ? "thread" : "process"} workers)`, () => {
    let pool: Pool;
    beforeAll(async () => {
      pool = new Pool({ workers: 2, threads });
      await pool.run(() => 0);
    });
    afterAll(async () => {
      await pool.terminate();
    });

    const counts = async () => (await pool.run(COUNTS)) as Counts[];
    /** Dependencies each worker received in full while `f` ran. */
    async function receivedDuring(f: () => Promise<unknown>): Promise<number[]> {
      const before = await counts();
      await f();
      const after = await counts();
      return after.map((a, i) => a.received - before[i].received);
    }
    // One cell's task: the same function and data under a cell's own file name (as %%pool map does).
    const cell = (n: number, fn: string, small: number, data = big) => ({
      fn, filename: `tspool-map-${n}`, deps: [{ name: "big", value: data }, { name: "small", value: small }],
    });

    it("sends the data once: an identical cell run again, or a changed function, sends no dependency", async () => {
      expect(await receivedDuring(async () => expect(await pool.run(cell(1, "() => big[2] + small", 3))).toEqual([6, 6]))).toEqual([2, 2]);
      expect(await receivedDuring(async () => expect(await pool.run(cell(2, "() => big[2] + small", 3))).toEqual([6, 6]))).toEqual([0, 0]);
      expect(await receivedDuring(async () => expect(await pool.run(cell(3, "() => big[2] + small + 1", 3))).toEqual([7, 7]))).toEqual([0, 0]);
      // map chunks too: each worker gets the bundle with the data as references
      expect(await receivedDuring(async () => expect(await pool.map(cell(4, "(i) => big[i] + small", 3), [0, 1, 2, 3], { chunksize: 1 })).toEqual([3, 4.5, 6, 7.5]))).toEqual([0, 0]);
    });

    it("sends only the dependency that changed, and the worker keeps one version per name", async () => {
      const held = (await counts()).map((c) => c.dependencies);
      expect(await receivedDuring(async () => expect(await pool.run(cell(5, "() => big[2] + small", 10))).toEqual([13, 13]))).toEqual([1, 1]);
      const changed = big.map((x) => x * 2);
      expect(await receivedDuring(async () => expect(await pool.run(cell(6, "() => big[2] + small", 10, changed))).toEqual([16, 16]))).toEqual([1, 1]);
      // the versions replaced were let go: as many dependencies held as before
      await pool.run(COUNTS);
      expect((await counts()).map((c) => c.dependencies)).toEqual(held);
      // and going back to a version let go sends it again, and uses it
      expect(await receivedDuring(async () => expect(await pool.run(cell(7, "() => big[2] + small", 10))).toEqual([13, 13]))).toEqual([1, 1]);
    });

    it("reinstalls a held dependency after a push overwrote its global, without receiving it again", async () => {
      const task = cell(8, "() => small", 42);
      expect(await pool.run(task)).toEqual([42, 42]);
      await pool.push({ small: -1 });
      expect(await pool.run({ fn: "() => small" })).toEqual([-1, -1]);
      expect(await receivedDuring(async () => expect(await pool.run(task)).toEqual([42, 42]))).toEqual([0, 0]);
    });

    it("gives each call a fresh copy of the values, without receiving them again", async () => {
      const task = { fn: "() => { big.length = 2; small++; return [big.length, small] }", deps: [{ name: "big", value: big }, { name: "small", value: 1 }] };
      expect(await pool.run(task)).toEqual([[2, 2], [2, 2]]);
      expect(await receivedDuring(async () => expect(await pool.run(task)).toEqual([[2, 2], [2, 2]]))).toEqual([0, 0]);
      expect(await pool.run({ ...task, fn: "() => [big.length, small]" })).toEqual([[200_000, 1], [200_000, 1]]);
      expect(big.length).toBe(200_000);
    });

    it("keeps what a call's tasks did for that call's later tasks on the same worker", async () => {
      const one = new Pool({ workers: 1, threads });
      try {
        const task = { fn: "(x) => { seen.push(x); return seen.length }", deps: [{ name: "seen", value: [] }] };
        expect(await one.map(task, [1, 2, 3], { chunksize: 1 })).toEqual([1, 2, 3]);
        expect(await one.map(task, [1, 2, 3], { chunksize: 1 })).toEqual([1, 2, 3]);
      } finally {
        await one.terminate();
      }
    });

    it("gives a worker that replaces one during a call the values as they were when the call was made", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tspool-snapshot-"));
      const one = new Pool({ workers: 1, threads, retries: 1 });
      try {
        await one.run(() => 0);
        const cfg = { k: 1 };
        // the first attempt ends its worker; the retry runs on the replacement
        const fn = "(x) => { const fs = require('node:fs'); if (!fs.existsSync(marker)) { fs.writeFileSync(marker, ''); process.exit(7) } return x * cfg.k }";
        const call = one.map({ fn, deps: [{ name: "cfg", value: cfg }, { name: "marker", value: join(dir, "crashed") }] }, [1, 2], { chunksize: 1 });
        cfg.k = 7;
        expect(await call).toEqual([1, 2]);
        expect(existsSync(join(dir, "crashed"))).toBe(true);
      } finally {
        await one.terminate();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("keeps handles shared, and shared memory for threads", async () => {
      const hits = new Value("i32", 0);
      const task = { fn: "async () => { await box.hits.add(1); return 0 }", deps: [{ name: "box", value: { hits } }] };
      await pool.run(task);
      await pool.run(task);
      expect(await hits.get()).toBe(4);
      if (threads) {
        const shared = new Int32Array(new SharedArrayBuffer(4));
        await pool.map({ fn: "(x) => Atomics.add(shared, 0, x)", deps: [{ name: "shared", value: shared }] }, [1, 2], { chunksize: 1 });
        expect(shared[0]).toBe(3);
      }
    });

    it("gives a replacement worker everything", async () => {
      const task = cell(9, "() => big.length + small", 1);
      expect(await pool.run(task)).toEqual([200_001, 200_001]);
      // worker 0 dies; its replacement holds nothing and gets the data again
      const crashed = pool.run({ fn: "() => process.exit(7)" }, { targets: 0 }).catch((e: Error) => e);
      expect(await crashed).toBeInstanceOf(Error);
      const fresh = await pool.run(COUNTS, { targets: 0 }) as Counts[];
      expect(fresh[0].received).toBe(0);
      expect(await pool.run(task)).toEqual([200_001, 200_001]);
      const after = await counts();
      expect(after[0].received).toBe(2);
    });
  });
}

describe("code a worker received with a job that never ran there", () => {
  it("is kept: a job sent ahead and moved to a worker that went idle leaves its bundle behind for later jobs", async () => {
    await using two = new Pool({ workers: 2 });
    await two.run(() => 0);
    const busy = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end); return Number(process.env.TSPOOL_WORKER_ID); };
    const started = new Promise<void>((resolve) => {
      let n = 0;
      two.on("task", (e) => { if (e.phase === "start" && ++n === 2) resolve(); });
    });
    // both workers busy: worker 0 for long, worker 1 briefly
    const first = two.map(busy, [1500, 300], { chunksize: 1 });
    await started;
    const sentBefore = two.status().workers.map((w) => w.bundlesSent);
    // this one goes ahead to worker 0 (with its code), and moves to worker 1 when that one is free
    const where = (x: number) => x + Number(process.env.TSPOOL_WORKER_ID);
    const second = await two.map(where, [100], { chunksize: 1 });
    expect(await first).toEqual([0, 1]);
    expect(second).toEqual([101]);
    const sent = two.status().workers.map((w, i) => w.bundlesSent - sentBefore[i]);
    expect(sent).toEqual([1, 1]);
    // worker 0 got the code but never ran it: it is sent only by hash now, and works
    expect(await two.run(where, { targets: 0, args: [5] })).toEqual([5]);
    expect(two.status().workers[0].bundlesSent - sentBefore[0]).toBe(1);
  });
});
