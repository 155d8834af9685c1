/**
 * Worker output that must neither get lost nor come late, on real process and thread workers:
 * lines printed right before the worker dies (process.exit, out of memory, killed by the pool),
 * lines printed before a long synchronous computation (they arrive while it runs), raw writes to
 * fd 1 and 2 (in order among the console lines, tagged with the job that wrote them), and a flood
 * of lines from several workers, whole and in order.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pool, TaskTimeoutError, WorkerCrashedError, type OutputEvent, type TaskEvent } from "../../dist/farm/index.js";

const linesOf = (events: OutputEvent[], stream: "stdout" | "stderr") => events.filter((e) => e.stream === stream).flatMap((e) => e.lines);
const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
const fsDep = [{ name: "fs", import: "node:fs", imported: "*" }];

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("every line printed before process.exit arrives, an unterminated one too, before the crash is reported", async () => {
      await using pool = new Pool({ workers: 1, threads, retries: 0 });
      const events: OutputEvent[] = [];
      pool.on("output", (e) => events.push(e));
      const err = await pool.apply(() => {
        for (let i = 0; i < 50; i++) console.log(`line ${i}`);
        console.error("the reason");
        process.stdout.write("no newline");
        process.exit(3);
      }).catch((e) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.exitCode).toBe(3);
      expect(linesOf(events, "stdout")).toEqual([...range(50, (i) => `line ${i}`), "no newline"]);
      expect(linesOf(events, "stderr")).toEqual(["the reason"]);
    });

    it("every line printed before the worker ran out of memory arrives", async () => {
      await using pool = new Pool({
        workers: 1, threads, retries: 0,
        ...(threads ? { resourceLimits: { maxOldGenerationSizeMb: 32 } } : { execArgv: ["--max-old-space-size=32"] }),
      });
      const events: OutputEvent[] = [];
      pool.on("output", (e) => events.push(e));
      const err = await pool.apply(() => {
        for (let i = 0; i < 1000; i++) console.log(`progress ${i}`);
        const hog: number[][] = [];
        for (;;) hog.push(new Array(10000).fill(hog.length));
      }).catch((e) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(linesOf(events, "stdout").filter((l) => l.startsWith("progress"))).toEqual(range(1000, (i) => `progress ${i}`));
    });

    it("lines printed before a long synchronous computation reach the parent while it runs", async () => {
      await using pool = new Pool({ workers: 1, threads });
      // the task spins until the parent has seen its last line; it could not without the lines
      const seen = join(mkdtempSync(join(tmpdir(), "tspool-out-")), "seen");
      pool.on("output", (e) => { if (e.lines.includes("line 29")) writeFileSync(seen, ""); });
      const outcome = await pool.apply((flag: string) => {
        const fs = require("node:fs");
        for (let i = 0; i < 30; i++) console.log(`line ${i}`);
        const giveUp = Date.now() + 30_000;
        while (Date.now() < giveUp) if (fs.existsSync(flag)) return "released by the parent";
        return "the parent never saw the lines";
      }, [seen]);
      expect(outcome).toBe("released by the parent");
    });

    it("raw writes to fd 1 and 2 keep their order among console lines, carry their job, and come before its result", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const events: OutputEvent[] = [];
      const order: string[] = [];
      pool.on("output", (e) => { events.push(e); order.push(...e.lines.map((l) => `${l} (${e.raw ? "raw" : "console"})`)); });
      pool.on("task", (e: TaskEvent) => { if (e.phase === "finish") order.push(`finish ${e.job}`); });
      await pool.apply({
        fn: "() => { console.log('A'); fs.writeSync(1, 'B\\n'); console.log('C'); fs.writeSync(1, Buffer.from('D\\n')); fs.writeSync(2, 'partial raw'); }",
        deps: fsDep,
      });
      const job = events[0].job!;
      expect(order).toEqual(["A (console)", "B (raw)", "C (console)", "D (raw)", "partial raw (raw)", `finish ${job}`]);
      expect(events.every((e) => e.job === job && e.workerId === 0)).toBe(true);
      expect(events.filter((e) => e.raw).map((e) => e.stream)).toEqual(["stdout", "stdout", "stderr"]);
      await pool.apply(() => 2);
      expect(events.length).toBe(5);
    });

    it("a flood of lines from two workers arrives complete, whole, in order and tagged", async () => {
      await using pool = new Pool({ workers: 2, threads });
      const seen = [[], []] as string[][];
      const finished: number[] = [];
      let lateLines = 0;
      pool.on("output", (e) => {
        if (finished.includes(e.workerId)) lateLines++;
        for (const l of e.lines) seen[e.workerId].push(l);
      });
      pool.on("task", (e: TaskEvent) => { if (e.phase === "finish") finished.push(e.workerId); });
      await pool.run(() => {
        const w = process.env.TSPOOL_WORKER_ID;
        for (let i = 0; i < 100_000; i++) console.log(`worker ${w} line ${i}`);
      });
      for (const w of [0, 1]) expect(seen[w]).toEqual(range(100_000, (i) => `worker ${w} line ${i}`));
      expect(lateLines).toBe(0);
    });
  });
}

describe("process workers only", () => {
  it("lines printed before a task the pool has to kill (stuck in native code past its timeout) arrive", async () => {
    await using pool = new Pool({ workers: 1, taskTimeout: 500, interruptGrace: 200 });
    const events: OutputEvent[] = [];
    pool.on("output", (e) => events.push(e));
    const err = await pool.apply({
      fn: "() => { for (let i = 0; i < 30; i++) console.log('step ' + i); cp.execFileSync('sleep', ['3']); }",
      deps: [{ name: "cp", import: "node:child_process", imported: "*" }],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect(err.workerReplaced).toBe(true);
    expect(linesOf(events, "stdout")).toEqual(range(30, (i) => `step ${i}`));
  });

  it("output of a child process sharing the worker's stdout is tagged with the job that ran it, even unterminated", async () => {
    await using pool = new Pool({ workers: 1 });
    const events: OutputEvent[] = [];
    pool.on("output", (e) => events.push(e));
    const jobs: number[] = [];
    pool.on("task", (e: TaskEvent) => { if (e.phase === "start") jobs.push(e.job); });
    const r = await pool.map({
      fn: "(x) => { cp.spawnSync('printf', ['child of item %s', String(x)], { stdio: 'inherit' }); return x; }",
      deps: [{ name: "cp", import: "node:child_process", imported: "*" }],
    }, [1, 2, 3], { chunksize: 1 });
    expect(r).toEqual([1, 2, 3]);
    expect(events.map((e) => [e.text, e.raw, e.job])).toEqual([1, 2, 3].map((x, i) => [`child of item ${x}\n`, true, jobs[i]]));
  });
});
