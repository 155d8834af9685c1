import { describe, expect, it } from "vitest";
import { Barrier, Event, Lock, Process, Queue, Value } from "../../dist/farm/index.js";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("Process", () => {
  it("runs its target in another process: pid at start, exit code 0 on return, its output and result reach us", async () => {
    const q = new Queue<number>();
    const lines: string[] = [];
    const p = new Process({
      target: async (q: Queue<number>, x: number) => {
        console.log(`child ${process.pid} got ${x}`);
        await q.put(x * 2);
        return x + 1;
      },
      args: [q, 20],
      output: (e) => lines.push(...e.lines),
    });
    expect(p.exitCode).toBeNull();
    p.start();
    expect(typeof p.pid).toBe("number");
    expect(p.pid).not.toBe(process.pid);
    expect(p.isAlive()).toBe(true);
    expect(await q.get({ timeout: 10_000 })).toBe(40);
    expect(await p.join()).toBe(0);
    expect(p.exitCode).toBe(0);
    expect(p.isAlive()).toBe(false);
    expect(await p.result).toBe(21);
    expect(lines.map((l) => l.trimEnd())).toContain(`child ${p.pid} got 20`);
    expect(alive(p.pid!)).toBe(false);
  });

  it("exit code 1 when the target throws, with the original error; N for process.exit(N)", async () => {
    const thrower = new Process({ target: () => { throw new TypeError("no good"); }, output: "ignore" });
    thrower.start();
    expect(await thrower.join()).toBe(1);
    expect(String(thrower.error)).toMatch(/no good/);
    await expect(thrower.result).rejects.toThrow(/no good/);

    const exiter = new Process({ target: () => process.exit(3), output: "ignore" });
    exiter.start();
    expect(await exiter.join()).toBe(3);
  });

  it("terminate() gives -15 and kill() or an outside SIGKILL -9, even for a target stuck in a loop", async () => {
    const looping = () => { for (;;) { /* busy */ } };
    const a = new Process({ target: looping });
    a.start();
    expect(await a.join({ timeout: 50 })).toBeNull();
    await a.terminate();
    expect(a.exitCode).toBe(-15);

    const b = new Process({ target: looping });
    b.start();
    await b.kill();
    expect(b.exitCode).toBe(-9);

    const started = new Event();
    const c = new Process({
      target: async (started: Event) => {
        await started.set();
        return new Promise(() => setInterval(() => {}, 1000));
      },
      args: [started],
    });
    c.start();
    expect(await started.wait({ timeout: 20_000 })).toBe(true);
    process.kill(c.pid!, "SIGKILL");
    expect(await c.join()).toBe(-9);
  });

  it("explains misuse: start twice, join before start, no target", async () => {
    expect(() => new Process({} as never)).toThrow(/target \(the function to run\) is required/);
    const p = new Process({ target: () => 1, output: "ignore" });
    await expect(p.join()).rejects.toThrow(/join\(\) before start\(\)/);
    p.start();
    expect(() => p.start()).toThrow(/can only be started once/);
    expect(await p.join()).toBe(0);
  });

  it("two Processes lose updates to a shared Value without a Lock and count exactly with one", async () => {
    const work = async (v: Value<"i32">, lock: Lock | null, n: number, start: Barrier) => {
      await start.wait(); // both children are up before either counts, so their loops overlap
      for (let i = 0; i < n; i++) {
        if (lock) await lock.acquire();
        const x = await v.get();
        await new Promise((r) => setTimeout(r, 1));
        await v.set(x + 1);
        if (lock) await lock.release();
      }
    };
    const runTwo = async (v: Value<"i32">, lock: Lock | null) => {
      const start = new Barrier(2);
      const ps = [0, 1].map(() => new Process({ target: work, args: [v, lock, 100, start] }));
      for (const p of ps) p.start();
      return Promise.all(ps.map((p) => p.join()));
    };
    const naive = new Value("i32", 0);
    expect(await runTwo(naive, null)).toEqual([0, 0]);
    expect(await naive.get()).toBeLessThan(200);
    const exact = new Value("i32", 0);
    expect(await runTwo(exact, new Lock())).toEqual([0, 0]);
    expect(await exact.get()).toBe(200);
  });

  it("threads: true runs the target in a worker thread of this process", async () => {
    await using p = new Process({ target: (v: Value<"i32">) => { v.value = 7; return process.pid; }, args: [new Value("i32", 0)], threads: true });
    p.start();
    expect(await p.join()).toBe(0);
    expect(await p.result).toBe(process.pid);
  });
});
