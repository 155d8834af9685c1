/**
 * Output capture on real workers: console.* and process.stdout/stderr writes arrive as events
 * carrying whole lines, tagged with worker id, pid, item index and stream, in each worker's
 * order and never mixing two workers in one event; raw writes to fd 1/2 are captured too.
 */
import { describe, expect, it } from "vitest";
import { Pool, type OutputEvent, type TaskEvent } from "../../dist/farm/index.js";

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("tags every line with its worker, pid, item and stream; lines stay whole and in order", async () => {
      await using pool = new Pool({ workers: 2, threads });
      const events: OutputEvent[] = [];
      pool.on("output", (e) => events.push(e));
      const items = Array.from({ length: 40 }, (_, i) => i);
      await pool.map((x: number) => {
        const w = process.env.TSPOOL_WORKER_ID;
        console.log(`w${w} item ${x} line a`);
        process.stdout.write(`w${w} item ${x} part 1, `);
        process.stdout.write(`part 2\n`);
        console.error(`w${w} item ${x} warning`);
        for (let i = 0; i < 3; i++) console.info(`w${w} item ${x} loop ${i}`);
        return x;
      }, items, { chunksize: 5 });
      const pids = pool.status().workers.map((w) => w.pid);
      const seen = new Map<number, string[]>();
      for (const e of events) {
        expect(e.raw).toBe(false);
        expect(e.text.endsWith("\n")).toBe(true);
        expect(e.lines.join("\n") + "\n").toBe(e.text);
        expect(e.pid).toBe(pids[e.workerId]);
        for (const line of e.lines) {
          // never a line of another worker or another item inside this event
          expect(line.startsWith(`w${e.workerId} item ${e.index} `)).toBe(true);
          expect(line.includes("warning")).toBe(e.stream === "stderr");
          seen.set(e.index!, [...(seen.get(e.index!) ?? []), line]);
        }
      }
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual(items);
      for (const [x, lines] of seen) {
        const w = lines[0].slice(1, 2);
        const stdout = lines.filter((l) => !l.includes("warning"));
        expect(stdout).toEqual([`w${w} item ${x} line a`, `w${w} item ${x} part 1, part 2`, ...[0, 1, 2].map((i) => `w${w} item ${x} loop ${i}`)]);
        expect(lines.filter((l) => l.includes("warning"))).toEqual([`w${w} item ${x} warning`]);
      }
    });

    it("an unterminated last line is delivered when the task ends, before its result", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const order: string[] = [];
      pool.on("output", (e) => order.push(`out:${e.text}`));
      pool.on("task", (e: TaskEvent) => { if (e.phase === "finish") order.push(`finish:${e.outcome}`); });
      await pool.apply(() => { process.stdout.write("no newline at the end"); });
      expect(order).toEqual(["out:no newline at the end\n", "finish:ok"]);
    });
  });
}

describe("listeners", () => {
  it("a listener that throws gets a warning and does not break the pool", async () => {
    await using pool = new Pool({ workers: 1 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    pool.on("task", () => { throw new Error("listener bug"); });
    pool.on("output", () => { throw new Error("listener bug"); });
    expect(await pool.map((x: number) => { console.log(x); return x * 2; }, [1, 2, 3])).toEqual([2, 4, 6]);
    await new Promise((r) => setTimeout(r, 50));
    process.off("warning", onWarning);
    expect(warnings.some((w) => /listener of the pool's "task" event threw; the pool carries on: Error: listener bug/.test(w))).toBe(true);
  });
});

describe("call tags", () => {
  it("each call's tag comes back on its own task and output events, so two calls at once stay apart", async () => {
    await using pool = new Pool({ workers: 2 });
    const tasks = new Map<unknown, TaskEvent[]>();
    const lines = new Map<unknown, string[]>();
    pool.on("task", (e) => tasks.set(e.tag, [...(tasks.get(e.tag) ?? []), e]));
    pool.on("output", (e) => lines.set(e.tag, [...(lines.get(e.tag) ?? []), ...e.lines]));
    const say = (x: string) => { console.log(x); return x; };
    const [a, b, c] = await Promise.all([
      pool.map(say, ["a1", "a2", "a3", "a4"], { chunksize: 1, tag: "first" }),
      pool.map(say, ["b1", "b2", "b3"], { chunksize: 1, tag: "second" }),
      pool.run(() => { console.log("on every worker"); return 0; }, { tag: "third" }),
      pool.apply(say, ["untagged"]),
    ]);
    expect([a, b, c]).toEqual([["a1", "a2", "a3", "a4"], ["b1", "b2", "b3"], [0, 0]]);
    expect(lines.get("first")?.sort()).toEqual(["a1", "a2", "a3", "a4"]);
    expect(lines.get("second")?.sort()).toEqual(["b1", "b2", "b3"]);
    expect(lines.get("third")).toEqual(["on every worker", "on every worker"]);
    expect(lines.get(undefined)).toEqual(["untagged"]);
    expect(tasks.get("first")?.filter((e) => e.phase === "finish")).toHaveLength(4);
    expect(tasks.get("second")?.every((e) => e.kind === "map")).toBe(true);
    expect(tasks.get("third")?.map((e) => e.kind)).toEqual(["run", "run", "run", "run"]);
  });
});

describe("raw output", () => {
  it("writes straight to fd 1 and 2 are captured too, as whole lines, marked raw", async () => {
    await using pool = new Pool({ workers: 1 });
    const events: OutputEvent[] = [];
    pool.on("output", (e) => events.push(e));
    await pool.apply({ fn: "() => { fs.writeSync(1, 'raw out 1\\nraw '); fs.writeSync(1, 'out 2\\n'); fs.writeSync(2, 'raw err\\n'); }", deps: [{ name: "fs", import: "node:fs", imported: "*" }] });
    await new Promise((r) => setTimeout(r, 200));
    const raw = events.filter((e) => e.raw);
    expect(raw.filter((e) => e.stream === "stdout").flatMap((e) => e.lines)).toEqual(["raw out 1", "raw out 2"]);
    expect(raw.filter((e) => e.stream === "stderr").flatMap((e) => e.lines)).toEqual(["raw err"]);
    expect(raw.every((e) => e.workerId === 0 && e.pid === pool.status().workers[0].pid)).toBe(true);
  });
});
