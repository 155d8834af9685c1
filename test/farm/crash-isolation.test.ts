/**
 * A map chunk of several items that kills its worker. The worker publishes the item it runs, so
 * the WorkerCrashedError names the item that killed it. With `retries: 0` (the default) nothing
 * is run again: the map fails, and no item runs twice. With retries, the chunk is cut where the
 * worker died: the items before the culprit run again as one chunk (not a retry), the culprit
 * alone is the retry, the items after it (never run) go back as a chunk; the parts do not count
 * towards maxTasksPerWorker. Real process and thread workers; each run of an item is recorded in
 * a file, so "ran twice" is seen, not inferred.
 */
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pool, WorkerCrashedError, type TaskEvent, type WorkerEvent } from "../../dist/farm/index.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A file that items append their index to when they run, and how often each ran. */
function runLog() {
  const file = join(mkdtempSync(join(tmpdir(), "tspool-isolate-")), "runs");
  appendFileSync(file, "");
  return {
    file,
    marker: `${file}.crashed`,
    counts(): Map<number, number> {
      const m = new Map<number, number>();
      for (const l of readFileSync(file, "utf8").split("\n")) if (l) m.set(Number(l), (m.get(Number(l)) ?? 0) + 1);
      return m;
    },
  };
}

/** Runs item x: records it, then exits with code 9 if x is the culprit (once only, if `once`). */
const crashAt = (x: number, culprit: number, log: string, once: boolean) => {
  const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
  fs.appendFileSync(log, `${x}\n`);
  if (x === culprit && !(once && fs.existsSync(`${log}.crashed`))) {
    fs.writeFileSync(`${log}.crashed`, "");
    process.exit(9);
  }
  return x * 10;
};

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("retries 0: the map fails naming the item that killed the worker, and no item runs twice", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const log = runLog();
      const got: number[] = [];
      let err: any = null;
      try {
        const task = { fn: "([x, c, f]) => crashAt(x, c, f, true)", deps: [{ name: "crashAt", js: crashAt.toString() }] };
        for await (const v of pool.imap<[number, number, string], number>(task,
          Array.from({ length: 20 }, (_, i) => [i, 13, log.file] as [number, number, string]), { chunksize: 5 })) got.push(v);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.index).toBe(13);
      expect(err.indexExact).toBe(true);
      expect(err.range).toEqual([10, 15]);
      expect(err.exitCode).toBe(9);
      expect(err.attempts).toBe(1);
      expect(err.message).toMatch(/\(.*item 13\) exited with code 9 while running the task$/m);
      // a one-off crash is not hidden: nothing ran again, though item 13 would not crash a second time
      const counts = log.counts();
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 14 }, (_, i) => i));
      expect(got).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
      expect(await pool.map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
    });

    it("retries 1: the items before the culprit run again as one chunk, the culprit alone, the rest once", async () => {
      await using pool = new Pool({ workers: 2, threads, retries: 1 });
      await pool.run(() => 0);
      const log = runLog();
      const starts: [number, number][] = [];
      pool.on("task", (e: TaskEvent) => { if (e.kind === "map" && e.phase === "start") starts.push(e.range!); });
      const items = Array.from({ length: 12 }, (_, i) => [i, 7, log.file, true] as [number, number, string, boolean]);
      expect(await pool.starmap(crashAt, items, { chunksize: 6 })).toEqual(items.map(([x]) => x * 10));
      const counts = log.counts();
      // 6 ran, then 7 killed the worker; 6 again (its result was lost), 7 again (the retry, which passes)
      expect(items.map(([x]) => counts.get(x))).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1]);
      expect(starts).toContainEqual([6, 7]);
      expect(starts).toContainEqual([7, 8]);
      expect(starts).toContainEqual([8, 12]);
      expect(starts.filter(([a]) => a >= 6)).toHaveLength(4); // the chunk once, then its three parts
    });

    it("retries 1: an item that always kills its worker fails after 2 attempts, 2 deaths", async () => {
      await using pool = new Pool({ workers: 2, threads, retries: 1 });
      await pool.run(() => 0);
      const exits: WorkerEvent[] = [];
      pool.on("worker", (e) => { if (e.type === "exit" && !e.expected) exits.push(e); });
      const log = runLog();
      const err = await pool.starmap(crashAt, Array.from({ length: 20 }, (_, i) => [i, 13, log.file, false] as [number, number, string, boolean]),
        { chunksize: 5 }).catch((e) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.index).toBe(13);
      expect(err.range).toEqual([13, 14]);
      expect(err.attempts).toBe(2);
      expect(exits).toHaveLength(2);
      expect(log.counts().get(13)).toBe(2);
    });

    it("the parts of a crashed chunk do not count towards maxTasksPerWorker, and a huge chunk is cut in three, not per item", async () => {
      await using pool = new Pool({ workers: 2, threads, maxTasksPerWorker: 1, retries: 1 });
      await pool.run(() => 0);
      let spawns = 0;
      pool.on("worker", (e) => { if (e.type === "online") spawns++; });
      const log = runLog();
      const items = Array.from({ length: 800 }, (_, i) => [i, 30, log.file, true] as [number, number, string, boolean]);
      expect(await pool.starmap(crashAt, items, { chunksize: 100 })).toEqual(items.map(([x]) => x * 10));
      // 8 chunks, each on a fresh worker, plus the one that died; before, the chunk's 100 items were 100 jobs, each a worker
      expect(spawns).toBeLessThanOrEqual(8 + 1);

      const jobs: TaskEvent[] = [];
      pool.on("task", (e) => { if (e.phase === "start") jobs.push(e); });
      const big = Array.from({ length: 25_000 }, (_, i) => [i, 1234, `${log.file}.big`, true] as [number, number, string, boolean]);
      const r = await pool.starmap((x: number, c: number, f: string) => {
        const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
        if (x === c && !fs.existsSync(f)) { fs.writeFileSync(f, ""); process.exit(9); }
        return x;
      }, big, { chunksize: 25_000 });
      expect(r[24_999]).toBe(24_999);
      expect(jobs.map((e) => e.range)).toEqual([[0, 25_000], [0, 1234], [1234, 1235], [1235, 25_000]]);
    });
  });
}

describe("process workers killed from outside", () => {
  it("the error names the item the worker was last seen on, as 'that one or a later one'", async () => {
    await using pool = new Pool({ workers: 1 });
    await pool.run(() => 0);
    // item 5 blocks; the parent kills the worker once the pool sees it on item 5
    const running = pool.map((x: number) => { if (x === 5) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); return x; },
      Array.from({ length: 10 }, (_, i) => i), { chunksize: 10 }).catch((e) => e);
    let pid = 0;
    for (let i = 0; i < 400 && !pid; i++) {
      const w = pool.status().workers[0];
      if (w.current?.item === 5) pid = w.pid;
      else await sleep(25);
    }
    expect(pid).not.toBe(0);
    process.kill(pid, "SIGKILL");
    const err = await running;
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.signal).toBe("SIGKILL");
    expect(err.index).toBe(5);
    expect(err.indexExact).toBe(false);
    expect(err.message).toMatch(/item 5 or a later one up to 9\) was killed by SIGKILL/);
  });
});
