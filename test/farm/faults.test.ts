/**
 * Faults on real process workers: errors thrown by tasks, workers killed or exiting mid-task
 * (retried elsewhere, or failing with WorkerCrashedError without a respawn loop), time-outs,
 * AbortSignal cancellation, workers that cannot start, and failing initializers.
 */
import { describe, expect, it } from "vitest";
import {
  Pool, PoolBrokenError, RemoteError, TaskTimeoutError, WorkerCrashedError, type WorkerEvent,
} from "../../dist/farm/index.js";

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("errors thrown by tasks", () => {
  it("come back as RemoteError with worker id, item index, original name, message, stack and cause", async () => {
    await using pool = new Pool({ workers: 2 });
    const items = Array.from({ length: 40 }, (_, i) => i);
    const err = await pool.map((x: number) => {
      if (x === 27) {
        const e = new RangeError(`item ${x} is out of range`, { cause: new Error("the root cause") });
        (e as any).code = "E_RANGE";
        throw e;
      }
      return x;
    }, items, { chunksize: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteName).toBe("RangeError");
    expect(err.remoteMessage).toBe("item 27 is out of range");
    expect(err.index).toBe(27);
    expect([0, 1]).toContain(err.workerId);
    expect(err.pid).toBe(pool.status().workers[err.workerId].pid);
    expect(err.message).toMatch(/^RangeError: item 27 is out of range \(worker \d, item 27\)$/);
    expect(err.remoteStack).toMatch(/RangeError: item 27 is out of range\n\s+at /);
    expect(err.stack).toContain("--- in the worker ---");
    expect(err.cause).toBeInstanceOf(Error);
    expect((err.cause as Error).message).toBe("the root cause");
    expect(err.props.code).toBe("E_RANGE");

    const rej = await pool.apply(async () => { await new Promise((r) => setTimeout(r, 1)); throw "plain string"; }, []).catch((e) => e);
    expect(rej).toBeInstanceOf(RemoteError);
    expect(rej.remoteMessage).toMatch(/non-Error value was thrown: "plain string"/);
    expect(rej.index).toBeUndefined();
    expect(await pool.apply(() => "pool still up")).toBe("pool still up");
  });
});

describe("results the parent cannot decode", () => {
  for (const threads of [false, true]) {
    it(`a handle of a kind the parent never loaded fails that task only; the pool carries on (${threads ? "threads" : "processes"})`, async () => {
      await using pool = new Pool({ workers: 2, threads });
      const strange = () => ({ [Symbol.for("tspool.handle")]: () => ({ kind: "no-such-kind", id: 7 }) });
      const err = await pool.apply(strange).catch((e) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/result of the task from worker \d cannot be received: received a handle of unknown kind "no-such-kind"/);
      const mapErr = await pool.map((x: number) => (x === 5
        ? { [Symbol.for("tspool.handle")]: () => ({ kind: "no-such-kind", id: x }) }
        : x), [1, 2, 3, 4, 5, 6], { chunksize: 2 }).catch((e) => e);
      expect(mapErr.message).toMatch(/unknown kind "no-such-kind"/);
      expect(await pool.map((x: number) => x * 2, [1, 2, 3])).toEqual([2, 4, 6]);
      expect(pool.status().workers.map((w) => w.restarts)).toEqual([0, 0]);
    });
  }
});

describe("worker deaths", () => {
  it("kill -9 of a worker in the middle of a map loses no result when retries allow", async () => {
    await using pool = new Pool({ workers: 2, retries: 1 });
    await pool.run(() => 0);
    const victim = pool.status().workers[1].pid;
    const exits: WorkerEvent[] = [];
    pool.on("worker", (e) => { if (e.type === "exit") exits.push(e); });
    let started = 0;
    pool.on("task", (e) => {
      if (e.phase === "start" && ++started === 6) process.kill(victim, "SIGKILL");
    });
    const items = Array.from({ length: 30 }, (_, i) => i);
    const out = await pool.map(async (x: number) => { await new Promise((r) => setTimeout(r, 15)); return x * 3; }, items, { chunksize: 2 });
    expect(out).toEqual(items.map((x) => x * 3));
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ workerId: 1, pid: victim, signal: "SIGKILL", expected: false });
    const w1 = pool.status().workers[1];
    expect(w1.restarts).toBe(1);
    expect(w1.pid).not.toBe(victim);
    expect(await pool.run(() => Number(process.env.TSPOOL_WORKER_ID))).toEqual([0, 1]);
  });

  it("a retried task announces each attempt: start, finish (crashed), start again, finish", async () => {
    await using pool = new Pool({ workers: 2, retries: 1 });
    const marker = join(mkdtempSync(join(tmpdir(), "tspool-retry-")), "crashed-once");
    const seen: string[] = [];
    pool.on("task", (e) => { if (e.kind === "map") seen.push(`${e.phase}${e.outcome ? `:${e.outcome}` : ""}`); });
    // The first attempt kills its worker; the retry finds the marker and returns.
    const crashOnce = `(x) => {
      const fs = require("node:fs");
      if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ""); process.kill(process.pid, "SIGKILL"); }
      return x * 2;
    }`;
    expect(await pool.map({ fn: crashOnce }, [21])).toEqual([42]);
    // Before, the second attempt ran without a "start": --timeout and progress never saw it begin.
    expect(seen).toEqual(["start", "finish:crashed", "start", "finish:ok"]);
  });

  it("a task that kills every worker it touches fails after its retries, without a respawn loop", async () => {
    await using pool = new Pool({ workers: 2, retries: 2 });
    const exits: WorkerEvent[] = [];
    pool.on("worker", (e) => { if (e.type === "exit") exits.push(e); });
    const err = await pool.apply(() => process.exit(3)).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.exitCode).toBe(3);
    expect(err.signal).toBeNull();
    expect(err.attempts).toBe(3);
    expect(err.message).toMatch(/exited with code 3 while running the task after 3 attempts/);
    expect(exits).toHaveLength(3);
    // it was tried on both workers, not three times on the same one
    expect(new Set(exits.map((e) => e.workerId))).toEqual(new Set([0, 1]));
    await sleep(200);
    expect(exits).toHaveLength(3);
    expect(await pool.map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
  });

  it("without retries, the crash of a map chunk names the worker, pid, signal and the item that killed it", async () => {
    await using pool = new Pool({ workers: 2 });
    const err = await pool.map((x: number) => { if (x === 13) process.kill(process.pid, "SIGKILL"); return x; },
      Array.from({ length: 20 }, (_, i) => i), { chunksize: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.signal).toBe("SIGKILL");
    // the chunk 10..14 crashed; the worker had published the item it ran, and nothing ran again
    expect(err.range).toEqual([10, 15]);
    expect(err.index).toBe(13);
    expect(err.indexExact).toBe(true);
    expect(err.attempts).toBe(1);
    expect(err.message).toMatch(/worker \d \(pid \d+, item 13\) was killed by SIGKILL/);
    expect(await pool.run(() => "replaced and working")).toEqual(["replaced and working", "replaced and working"]);
  });

  it("a worker that runs out of memory fails the task with the reason from its stderr, and is replaced", async () => {
    await using pool = new Pool({ workers: 1, execArgv: ["--max-old-space-size=24"] });
    const err = await pool.apply(() => { const keep: number[][] = []; for (;;) keep.push(new Array(1e5).fill(1)); }).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.stderrTail).toMatch(/heap out of memory/i);
    expect(err.message).toMatch(/heap out of memory/i);
    expect(await pool.apply(() => "fresh worker")).toBe("fresh worker");
  });

  it("a replacement worker gets the initializer and the pushed bindings again", async () => {
    await using pool = new Pool({ workers: 1, initializer: (tag: string) => { (globalThis as any).initTag = tag; }, initargs: ["init-ran"] });
    await pool.push({ pushed: 41 });
    expect(await pool.apply(() => [(globalThis as any).initTag, (globalThis as any).pushed])).toEqual(["init-ran", 41]);
    await pool.apply(() => process.exit(1)).catch(() => {});
    expect(await pool.apply(() => [(globalThis as any).initTag, (globalThis as any).pushed + 1])).toEqual(["init-ran", 42]);
    expect(pool.status().workers[0].restarts).toBe(1);
  });
});

describe("time-outs and cancellation", () => {
  it("taskTimeout stops a job that runs too long; the worker keeps its state", async () => {
    await using pool = new Pool({ workers: 1, taskTimeout: 300 });
    await pool.run(() => { (globalThis as any).kept = "yes"; });
    const pid = pool.status().workers[0].pid;
    const err = await pool.apply(() => { for (;;) { /* spin */ } }).catch((e) => e);
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect(err.timeoutMs).toBe(300);
    expect(err.workerReplaced).toBe(false);
    expect(await pool.run(() => (globalThis as any).kept)).toEqual(["yes"]);
    expect(pool.status().workers[0].pid).toBe(pid);
  });

  it("an AbortSignal cancels a map: queued chunks are dropped, running ones stopped", async () => {
    await using pool = new Pool({ workers: 2 });
    await pool.run(() => { (globalThis as any).ran = 0; });
    const ac = new AbortController();
    const p = pool.map(async (x: number) => { (globalThis as any).ran++; await new Promise((r) => setTimeout(r, 100)); return x; },
      Array.from({ length: 50 }, (_, i) => i), { chunksize: 1, signal: ac.signal });
    setTimeout(() => ac.abort(new Error("user pressed stop")), 150);
    await expect(p).rejects.toThrow("user pressed stop");
    await sleep(300);
    const ran = (await pool.run(() => (globalThis as any).ran)).reduce((a: number, b: number) => a + b, 0);
    expect(ran).toBeLessThan(10);
    expect(await pool.map((x: number) => x * 2, [1, 2])).toEqual([2, 4]);
    const already = AbortSignal.abort();
    await expect(pool.apply(() => 1, [], { signal: already })).rejects.toThrow(/aborted/);
  });
});

describe("per-call retries and timeout", () => {
  it("a map's own retries override the pool's, in both directions", async () => {
    await using pool = new Pool({ workers: 2 }); // the pool itself retries nothing
    const marker = join(mkdtempSync(join(tmpdir(), "tspool-retry-")), "died-once");
    // item 3 kills its worker the first time only (the marker file outlives the worker)
    const killOnce = (x: number, file: string) => {
      const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
      if (x === 3 && !fs.existsSync(file)) { fs.writeFileSync(file, "x"); process.kill(process.pid, "SIGKILL"); }
      return x * 10;
    };
    const items = [0, 1, 2, 3, 4, 5].map((x) => [x, marker] as [number, string]);
    expect(await pool.starmap(killOnce, items, { retries: 1, chunksize: 1 })).toEqual([0, 10, 20, 30, 40, 50]);

    await using strict = new Pool({ workers: 2, retries: 2 });
    const err = await strict.map((x: number) => { if (x === 1) process.kill(process.pid, "SIGKILL"); return x; },
      [0, 1, 2], { retries: 0, chunksize: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect(err.attempts).toBe(1);
    await expect(strict.map((x: number) => x + 1, [1, 2], { retries: -1 })).rejects.toThrow(/retries must be a whole number >= 0, got -1/);
  });

  it("a map's own timeout stops a task on a pool without taskTimeout; the worker keeps its state", async () => {
    await using pool = new Pool({ workers: 1 });
    await pool.run(() => { (globalThis as any).kept = "still here"; });
    const err = await pool.map((x: number) => { if (x === 1) for (;;) { /* spin */ } return x; }, [0, 1, 2], { timeout: 300 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect(err.timeoutMs).toBe(300);
    expect(err.message).toMatch(/ran longer than its timeout of 300 ms/);
    expect(await pool.run(() => (globalThis as any).kept)).toEqual(["still here"]);
    expect(await pool.map((x: number) => x * 2, [1, 2])).toEqual([2, 4]); // later calls have no timeout
  });
});

describe("pools that cannot work", () => {
  it("workers that die while starting break the pool after 3 tries instead of respawning forever", async () => {
    const pool = new Pool({ workers: 1, execArgv: ["--definitely-not-a-node-flag"] });
    const exits: WorkerEvent[] = [];
    pool.on("worker", (e) => { if (e.type === "exit") exits.push(e); });
    const err = await pool.apply(() => 1).catch((e) => e);
    expect(err).toBeInstanceOf(PoolBrokenError);
    expect(err.message).toMatch(/exited 3 times while starting/);
    expect(err.message).toMatch(/definitely-not-a-node-flag/);
    await sleep(200);
    expect(exits).toHaveLength(3);
    expect(pool.status().broken).toMatch(/exited 3 times/);
    await expect(pool.apply(() => 1)).rejects.toBeInstanceOf(PoolBrokenError);
    await pool.terminate();
  });

  it("a failing initializer breaks the pool with the initializer's error", async () => {
    const pool = new Pool({ workers: 2, initializer: () => { throw new Error("no database here"); } });
    const err = await pool.map((x: number) => x, [1, 2, 3]).catch((e) => e);
    expect(err).toBeInstanceOf(PoolBrokenError);
    expect(err.message).toMatch(/the initializer failed in worker \d: Error: no database here/);
    expect(err.cause).toBeInstanceOf(RemoteError);
    await pool.terminate();
  });
});
