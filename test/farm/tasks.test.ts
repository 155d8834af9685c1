/**
 * Running tasks on a real pool of 2 process workers: results and their order, every entry point
 * (map, starmap, imap, imapUnordered, apply, applyAsync, run, push), persistence of worker state,
 * code shipping with dependencies and its content-hash cache, and clear errors for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool, CancelledError, PoolClosedError } from "../../dist/farm/index.js";

let pool: Pool;
beforeAll(async () => {
  pool = new Pool({ workers: 2 });
  await pool.run(() => 0);
});
afterAll(async () => {
  await pool.terminate();
});

describe("map and friends", () => {
  it("map returns results in input order, for numbers (fast path) and for objects", async () => {
    const nums = Array.from({ length: 5000 }, (_, i) => i);
    expect(await pool.map((x: number) => x * x, nums)).toEqual(nums.map((x) => x * x));
    const objs = Array.from({ length: 300 }, (_, i) => ({ id: i, tag: `t${i}` }));
    expect(await pool.map((o: { id: number; tag: string }) => ({ ...o, double: o.id * 2 }), objs)).toEqual(objs.map((o) => ({ ...o, double: o.id * 2 })));
  });

  it("keeps input order when items take different times and chunks are single items", async () => {
    const delays = [40, 5, 30, 1, 20, 0, 10, 2];
    const out = await pool.map(async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, delays, { chunksize: 1 });
    expect(out).toEqual(delays);
  });

  it("maps typed arrays and mixed results (numbers that turn into strings mid-chunk)", async () => {
    const f32 = Float32Array.from([1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5]);
    expect(await pool.map((x: number) => x * 2, f32)).toEqual([3, 5, 7, 9, 11, 13, 15, 17, 19]);
    const nums = Array.from({ length: 20 }, (_, i) => i);
    const out = await pool.map((x: number) => (x < 7 ? x : `s${x}`), nums, { chunksize: 10 });
    expect(out).toEqual(nums.map((x) => (x < 7 ? x : `s${x}`)));
    expect(await pool.map((x: number) => -x, [0, 1, NaN, Infinity, 1, 2, 3, 4])).toEqual([-0, -1, NaN, -Infinity, -1, -2, -3, -4]);
    expect(await pool.map((x: bigint) => x * 2n, BigInt64Array.from([1n, 2n, 3n]))).toEqual([2n, 4n, 6n]);
    await expect(pool.map((x: number) => x, new DataView(new ArrayBuffer(8)) as never)).rejects.toThrow(/a DataView is none of these/);
  });

  it("numeric items reach the task as the same numbers (-0, NaN, fractions, beyond 32 bits)", async () => {
    const xs = [-0, 0, 1, -1, NaN, 0.5, -2.25, 2 ** 31, -(2 ** 31), 2 ** 53, 1e300, -Infinity];
    const seen = await pool.map((x: number) => [Object.is(x, -0), Number.isNaN(x), Number.isInteger(x), String(x)], xs, { chunksize: 6 });
    expect(seen).toEqual(xs.map((x) => [Object.is(x, -0), Number.isNaN(x), Number.isInteger(x), String(x)]));
    const same = (a: unknown[]) => a.map((x) => (Object.is(x, -0) ? "-0" : String(x)));
    expect(same(await pool.map((x: number) => x, xs, { chunksize: 6 }))).toEqual(same(xs));
    const back: unknown[] = [];
    for await (const v of pool.imap((x: number) => x, xs, { chunksize: 6 })) back.push(v);
    expect(same(back)).toEqual(same(xs));
  });

  it("maps an empty list and any iterable", async () => {
    expect(await pool.map((x: number) => x, [])).toEqual([]);
    expect(await pool.map((x: number) => x + 1, new Set([1, 2, 3]))).toEqual([2, 3, 4]);
  });

  it("starmap spreads each item as arguments", async () => {
    expect(await pool.starmap((a: number, b: number, c = 0) => a * b + c, [[1, 2], [3, 4, 1], [5, 6]])).toEqual([2, 13, 30]);
  });

  it("imap yields in input order; imapUnordered yields everything as it completes", async () => {
    const items = [30, 0, 20, 5, 10, 1];
    const slow = async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; };
    const ordered: number[] = [];
    for await (const v of pool.imap(slow, items, { chunksize: 1 })) ordered.push(v);
    expect(ordered).toEqual(items);
    const unordered: number[] = [];
    for await (const v of pool.imapUnordered(slow, items, { chunksize: 1 })) unordered.push(v);
    expect([...unordered].sort((a, b) => a - b)).toEqual([...items].sort((a, b) => a - b));
    // the 0 ms item cannot come after the 30 ms one that started on the other worker at the same time
    expect(unordered.indexOf(0)).toBeLessThan(unordered.indexOf(30));
  });

  it("a chunk sent ahead to a busy worker moves to a worker that went idle before it started", async () => {
    await using two = new Pool({ workers: 2 });
    await two.run(() => 0);
    const starts: string[] = [];
    const finishes: string[] = [];
    two.on("task", (e) => (e.phase === "start" ? starts : finishes).push(`${e.range![0]}@${e.workerId}`));
    // worker 0 gets the long item 0 and item 2 ahead; worker 1 is done with items 1 and 3 long before.
    // Quick items make item 0 look "not slow yet" when worker 1 goes idle: it must be looked at again.
    const busy = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end); return Number(process.env.TSPOOL_WORKER_ID); };
    const ranOn = await two.map(busy, [400, 1, 1, 1], { chunksize: 1 });
    expect(ranOn[0]).toBe(0);
    expect(ranOn[2]).toBe(1);
    // each item starts once, where it runs, and finishes there
    expect([...starts].sort()).toEqual(["0@0", "1@1", "2@1", "3@1"]);
    expect([...finishes].sort()).toEqual(["0@0", "1@1", "2@1", "3@1"]);
  });

  it("automatic chunks: ceil(n / (4 * workers)) items per message; large numeric arrays in half as many", async () => {
    const firstChunk = async (items: unknown[]) => {
      const sizes: number[] = [];
      const onTask = (e: { phase: string; range: [number, number] | null }) => { if (e.phase === "start" && e.range) sizes.push(e.range[1] - e.range[0]); };
      pool.on("task", onTask);
      await pool.map((x: unknown) => x, items);
      pool.off("task", onTask);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(items.length);
      return sizes[0];
    };
    expect(await firstChunk(Array.from({ length: 1000 }, (_, i) => i))).toBe(125);
    expect(await firstChunk(Array.from({ length: 20_000 }, (_, i) => `s${i}`))).toBe(2500);
    expect(await firstChunk(Array.from({ length: 20_000 }, (_, i) => i))).toBe(5000);
  });
});

describe("apply, applyAsync, run, push", () => {
  it("apply passes arguments and returns structured-cloned values", async () => {
    const r = await pool.apply((m: Map<string, number>, d: Date) => ({ size: m.size, year: d.getUTCFullYear(), big: 2n ** 70n }), [new Map([["a", 1]]), new Date(Date.UTC(2020, 0, 1))]);
    expect(r).toEqual({ size: 1, year: 2020, big: 2n ** 70n });
  });

  it("applyAsync can be polled, awaited and cancelled", async () => {
    const h = pool.applyAsync(async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return "late"; }, [150]);
    expect(h.ready()).toBe(false);
    expect(() => h.successful()).toThrow(/not finished/);
    expect(await h).toBe("late");
    expect(h.ready()).toBe(true);
    expect(h.successful()).toBe(true);
    expect(h.peek()).toBe("late");

    const c = pool.applyAsync(async () => { await new Promise((r) => setTimeout(r, 10_000)); return 1; });
    await new Promise((r) => setTimeout(r, 50));
    await c.cancel();
    await expect(c.get()).rejects.toBeInstanceOf(CancelledError);
    expect(c.ready()).toBe(true);
    expect(c.successful()).toBe(false);
    expect(await pool.apply(() => "still working")).toBe("still working");
  });

  it("applyAsync's handle is a real Promise: then, catch and finally work, and await", async () => {
    const ok = pool.applyAsync((x: number) => x * 2, [21]);
    expect(ok).toBeInstanceOf(Promise);
    let finallyRan = 0;
    expect(await ok.then((v) => v + 1)).toBe(43);
    expect(await ok.catch(() => "never")).toBe(42);
    expect(await ok.finally(() => { finallyRan++; })).toBe(42);
    const failed = pool.applyAsync(() => { throw new RangeError("boom"); });
    expect(await failed.catch((e: Error) => e.message)).toMatch(/RangeError: boom/);
    await expect(failed.finally(() => { finallyRan++; })).rejects.toThrow(/boom/);
    await expect(failed).rejects.toThrow(/boom/);
    expect(finallyRan).toBe(2);
    // what then/catch/finally return is a plain Promise, not another task handle
    expect(ok.then()).not.toHaveProperty("cancel");
    expect(failed.successful()).toBe(false);
    // a failed handle nobody awaits does not become an unhandled rejection
    pool.applyAsync(() => { throw new Error("ignored"); });
    expect(await pool.apply(() => "still working")).toBe("still working");
  });

  it("run executes on every worker, or on the listed ones, in worker-id order", async () => {
    const all = await pool.run(() => Number(process.env.TSPOOL_WORKER_ID));
    expect(all).toEqual([0, 1]);
    expect(await pool.run(() => Number(process.env.TSPOOL_WORKER_ID), { targets: [1] })).toEqual([1]);
    expect(await pool.run((a: number, b: number) => a + b, { targets: 0, args: [2, 3] })).toEqual([5]);
    await expect(pool.run(() => 0, { targets: [2] })).rejects.toThrow(/target 2 is not a worker id; this pool has workers 0..1/);
  });

  it("workers keep their globals between tasks (persistent namespace)", async () => {
    await pool.run(() => { (globalThis as any).counter = 0; });
    await pool.run(() => { (globalThis as any).counter += 5; });
    await pool.run(() => { (globalThis as any).counter += 1; }, { targets: [0] });
    expect(await pool.run(() => (globalThis as any).counter)).toEqual([6, 5]);
    const pids = await pool.run(() => process.pid);
    expect(new Set(pids).size).toBe(2);
    expect(pids).toEqual(pool.status().workers.map((w) => w.pid));
  });

  it("workers have require, __filename and __dirname as notebook cells do (resolving from their cwd, then tspool's own install)", async () => {
    const seen = await pool.apply(() => [
      typeof require, require("node:os").EOL, require("zeromq") === require("zeromq"), __dirname === process.cwd(), typeof __filename,
    ]);
    expect(seen).toEqual(["function", "\n", true, true, "string"]);
    await expect(pool.apply(() => require("no-such-package-anywhere"))).rejects.toThrow(/Cannot find module 'no-such-package-anywhere'/);
  });

  it("push sets globals on every worker", async () => {
    await pool.push({ factor: 3, table: { a: [1, 2] } });
    expect(await pool.run(() => [(globalThis as any).factor, (globalThis as any).table.a[1]])).toEqual([[3, 2], [3, 2]]);
    expect(await pool.map((x: number) => x * (globalThis as any).factor, [1, 2, 3])).toEqual([3, 6, 9]);
    await expect(pool.push({ f: () => 1 })).rejects.toThrow(/"f" is a function/);
    await expect(pool.push([1] as never)).rejects.toThrow(/pass an object/);
  });
});

describe("code shipping", () => {
  it("ships dependencies: JS expressions, snapshot values, imports and scripts", async () => {
    const code = {
      fn: "(x) => helper(x) + offset + path.basename('/a/b.txt').length + fromScript",
      deps: [
        { name: "helper", js: "function helper(v) { return v * 10; }" },
        { name: "offset", value: 100 },
        { name: "path", import: "node:path", imported: "*" },
        { script: "var fromScript = 1000;" },
      ],
    };
    expect(await pool.map(code, [1, 2])).toEqual([1115, 1125]);
  });

  it("sends a bundle once per worker and afterwards only its hash; script deps run once", async () => {
    const code = { fn: "() => globalThis.scriptRuns", deps: [{ script: "globalThis.scriptRuns = (globalThis.scriptRuns ?? 0) + 1;" }] };
    const before = pool.status().workers.map((w) => w.bundlesSent);
    for (let i = 0; i < 3; i++) await pool.run(code);
    const after = pool.status().workers.map((w) => w.bundlesSent);
    expect(after.map((a, i) => a - before[i])).toEqual([1, 1]);
    expect(await pool.run(code)).toEqual([1, 1]);
  });

  it("a worker reinstalls a global when another bundle redefined it", async () => {
    const a = { fn: "() => shared", deps: [{ name: "shared", value: "A" }] };
    const b = { fn: "() => shared + '!'", deps: [{ name: "shared", value: "B" }] };
    expect(await pool.run(a, { targets: 0 })).toEqual(["A"]);
    expect(await pool.run(b, { targets: 0 })).toEqual(["B!"]);
    expect(await pool.run(a, { targets: 0 })).toEqual(["A"]);
  });

  it("shipped code can import modules dynamically", async () => {
    expect(await pool.apply({ fn: "async (p) => (await import('node:path')).basename(p)" }, ["/x/y.txt"])).toBe("y.txt");
  });

  it("runs an exported function of a module", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tspool-farm-"));
    const file = join(dir, "mod.mjs");
    writeFileSync(file, "export function triple(x) { return 3 * x; }\nexport default (x) => -x;\n");
    expect(await pool.map({ module: file, export: "triple" }, [1, 2, 3])).toEqual([3, 6, 9]);
    expect(await pool.apply({ module: file }, [4])).toBe(-4);
    await expect(pool.apply({ module: file, export: "nope" })).rejects.toThrow(/has no function export "nope"/);
    await expect(pool.apply({ module: file, export: "nope" })).rejects.toThrow(/has no function export "nope"/);
  });

  it("accepts method shorthand and says what cannot travel", async () => {
    const obj = { sq(x: number) { return x * x; } };
    expect(await pool.map(obj.sq, [3, 4])).toEqual([9, 16]);
    await expect(pool.map(Math.sqrt, [4])).rejects.toThrow(/native or bound function/);
    await expect(pool.map(((x: number) => x).bind(null), [4])).rejects.toThrow(/native or bound function/);
    await expect(pool.map(42 as never, [1])).rejects.toThrow(/task function must be a function/);
    await expect(pool.map((x: number) => x, 5 as never)).rejects.toThrow(/items must be an array/);
    await expect(pool.map((x: number) => x, [1], { chunksize: 0 })).rejects.toThrow(/chunksize must be a positive integer/);
    await expect(pool.map({ fn: "(x) => x", deps: [{ nme: "x" } as never] }, [1])).rejects.toThrow(/deps\[0\] needs a "name"/);
    await expect(pool.apply({ fn: "this is not js" })).rejects.toThrow(/SyntaxError/);
    await expect(pool.apply((f: unknown) => typeof f, [() => 1])).rejects.toThrow(/argument 0 could not be sent to worker \d: .*must be plain data/s);
    await expect(pool.apply(() => () => 1)).rejects.toThrow(/result cannot be sent back to the pool/);
    await expect(pool.push({ bad: new Map([["k", Symbol("s")]]) })).rejects.toThrow(/pushed binding "bad" could not be sent/);
    await expect(pool.apply({ fn: "this is not js" })).rejects.toThrow(/SyntaxError/); // cached: only the hash travels
    expect(await pool.apply(() => "pool still fine")).toBe("pool still fine");
  });
});

describe("constructor checks", () => {
  it("rejects bad options with a message naming the option", () => {
    expect(() => new Pool({ workers: 0 })).toThrow(/workers must be a positive integer/);
    expect(() => new Pool({ workers: 1, taskTimeout: -5 })).toThrow(/taskTimeout must be a positive number/);
    expect(() => new Pool({ workers: 1, retries: 1.5 })).toThrow(/retries must be a whole number/);
  });

  it("a closed pool refuses new work with PoolClosedError", async () => {
    const p = new Pool({ workers: 1 });
    p.close();
    await expect(p.map((x: number) => x, [1])).rejects.toThrow(PoolClosedError);
    await p.join();
  });
});
