/**
 * A pool's life on real workers: close/join finishing queued work, terminate dropping it,
 * `await using`, resize, recycling after maxTasksPerWorker, status for `%pool status`, and an
 * idle pool not keeping a program alive.
 */
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Pool, PoolClosedError, type WorkerEvent } from "../../dist/farm/index.js";

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe("stopping", () => {
  it("close() refuses new work; join() waits for queued tasks, then the workers exit", async () => {
    const pool = new Pool({ workers: 2 });
    const exits: WorkerEvent[] = [];
    pool.on("worker", (e) => { if (e.type === "exit") exits.push(e); });
    const pending = pool.map(async (x: number) => { await new Promise((r) => setTimeout(r, 20)); return x * 2; }, [1, 2, 3, 4, 5, 6], { chunksize: 1 });
    pool.close();
    await expect(pool.apply(() => 1)).rejects.toBeInstanceOf(PoolClosedError);
    await pool.join();
    expect(await pending).toEqual([2, 4, 6, 8, 10, 12]);
    expect(exits.map((e) => [e.expected, e.exitCode])).toEqual([[true, 0], [true, 0]]);
    for (const w of pool.status().workers) expect(alive(w.pid)).toBe(false);
  });

  it("terminate() rejects pending work with PoolClosedError and kills the workers", async () => {
    const pool = new Pool({ workers: 2 });
    await pool.run(() => 0);
    const pids = pool.status().workers.map((w) => w.pid);
    const pending = pool.map(() => { for (;;) { /* spin */ } }, [1, 2, 3]).catch((e) => e);
    await new Promise((r) => setTimeout(r, 100));
    await pool.terminate();
    expect(await pending).toBeInstanceOf(PoolClosedError);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it("await using closes the pool and stops its workers at the end of the block", async () => {
    let pids: number[] = [];
    {
      await using pool = new Pool({ workers: 2 });
      pids = await pool.run(() => process.pid);
      expect(pids.every(alive)).toBe(true);
    }
    expect(pids.some(alive)).toBe(false);
  });

  it("an idle pool does not keep a program from exiting", () => {
    const index = fileURLToPath(new URL("../../dist/farm/index.js", import.meta.url));
    const script = `import { Pool } from ${JSON.stringify(index)};
      const pool = new Pool({ workers: 2 });
      console.log(JSON.stringify(await pool.map((x) => x + 1, [1, 2, 3])));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("[2,3,4]\n");
    expect(r.status).toBe(0);
  });

  it("workers do not outlive a parent killed with SIGKILL, even while stuck in a loop", async () => {
    const index = fileURLToPath(new URL("../../dist/farm/index.js", import.meta.url));
    const script = `import { Pool } from ${JSON.stringify(index)};
      const pool = new Pool({ workers: 2 });
      await pool.run(() => 0);
      pool.map(() => { for (;;) {} }, [1, 2]).catch(() => {});
      setTimeout(() => console.log(JSON.stringify(pool.status().workers.map((w) => w.pid))), 300);
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const pids: number[] = await new Promise((resolve, reject) => {
      parent.stdout.once("data", (d) => resolve(JSON.parse(String(d))));
      parent.once("exit", (code) => reject(new Error(`the parent script exited (code ${code}) before listing its workers`)));
    });
    expect(pids.every(alive)).toBe(true);
    parent.kill("SIGKILL");
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids.some(alive)).toBe(false);
  });
});

describe("size and recycling", () => {
  it("resize grows with new ids and shrinks by retiring the highest ids", async () => {
    await using pool = new Pool({ workers: 1 });
    await pool.resize(3);
    expect(await pool.run(() => Number(process.env.TSPOOL_WORKER_ID))).toEqual([0, 1, 2]);
    expect(pool.size).toBe(3);
    const pid2 = pool.status().workers[2].pid;
    // a job running on a retiring worker finishes before the worker goes
    const running = pool.run(async () => { await new Promise((r) => setTimeout(r, 200)); return "finished"; }, { targets: [2] });
    await new Promise((r) => setTimeout(r, 50));
    await pool.resize(2);
    expect(await running).toEqual(["finished"]);
    expect(pool.status().workers.map((w) => w.id)).toEqual([0, 1]);
    expect(alive(pid2)).toBe(false);
    expect(await pool.map((x: number) => x * x, [1, 2, 3, 4])).toEqual([1, 4, 9, 16]);
    await expect(pool.resize(0)).rejects.toThrow(/positive integer/);
  });

  it("maxTasksPerWorker replaces a worker after that many jobs, keeping its id", async () => {
    await using pool = new Pool({ workers: 1, maxTasksPerWorker: 2, initializer: () => { (globalThis as any).ready = true; } });
    await pool.push({ pushed: 1 }); // counts as a job; the initializer and the push replayed to replacements do not
    const pids: number[] = [];
    for (let i = 0; i < 5; i++) pids.push(await pool.apply(() => process.pid));
    expect(pids[0]).not.toBe(pids[1]); // the push was the first worker's first job
    expect(pids[1]).toBe(pids[2]);
    expect(pids[3]).toBe(pids[4]);
    expect(pids[3]).not.toBe(pids[2]);
    expect(await pool.apply(() => [(globalThis as any).ready, (globalThis as any).pushed])).toEqual([true, 1]);
    expect(pool.status().workers[0].restarts).toBeGreaterThanOrEqual(2);
  });
});

describe("status", () => {
  it("reports per worker: id, pid, state, jobs and items done, busy time and memory", async () => {
    await using pool = new Pool({ workers: 2 });
    const before = pool.status();
    expect(before.workers.map((w) => w.id)).toEqual([0, 1]);
    await pool.run(() => 0); // both workers up (on a loaded machine one could otherwise take every chunk)
    await pool.map((x: number) => { const end = Date.now() + 5; while (Date.now() < end); return x; }, Array.from({ length: 16 }, (_, i) => i), { chunksize: 2 });
    const st = await pool.refreshStatus();
    expect(st.size).toBe(2);
    expect(st.threads).toBe(false);
    expect(st.closed).toBe(false);
    expect(st.broken).toBeNull();
    expect(st.queuedJobs).toBe(0);
    expect(st.workers.reduce((a, w) => a + w.tasksDone, 0)).toBe(2 + 8);
    expect(st.workers.reduce((a, w) => a + w.itemsDone, 0)).toBe(16);
    for (const w of st.workers) {
      expect(w.kind).toBe("process");
      expect(w.state).toBe("idle");
      expect(w.pid).toBeGreaterThan(0);
      expect(w.rss).toBeGreaterThan(10 * 1024 * 1024);
      expect(w.current).toBeNull();
    }
    expect(st.workers.reduce((a, w) => a + w.busyMs, 0)).toBeGreaterThanOrEqual(16 * 5 - 1);
    const running = pool.apply(async () => { await new Promise((r) => setTimeout(r, 200)); return 1; });
    await new Promise((r) => setTimeout(r, 50));
    const busy = pool.status().workers.filter((w) => w.state === "busy");
    expect(busy).toHaveLength(1);
    expect(busy[0].current?.kind).toBe("apply");
    await running;
  });
});
