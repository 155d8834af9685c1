/**
 * Values a call gives its workers that cannot be sent: a getter that throws, data nested too
 * deeply, a SharedArrayBuffer for a process worker (it would silently be a copy). The call fails
 * with a TypeError that names the argument, item, pushed binding or dependency and where inside
 * it the problem is; nothing is sent, and the pool goes on (before, the worker's slot was never
 * free again, or the program died of an exception thrown from the pool's message handling). A
 * message the worker itself cannot read fails its job instead of never answering. Real workers.
 */
import { describe, expect, it } from "vitest";
import { Pool, Process } from "../../dist/farm/index.js";

const withThrowingGetter = () => ({ a: 1, get b(): number { throw new Error("getter boom"); } });
const linkedList = (n: number) => {
  let list: { value: number; next: unknown } | null = null;
  for (let i = 0; i < n; i++) list = { value: i, next: list };
  return list;
};
const length = (l: { next: unknown } | null) => { let n = 0; while (l) { n++; l = l.next as { next: unknown } | null; } return n; };

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("an argument whose getter throws fails that call only, saying which argument and where", async () => {
      await using pool = new Pool({ workers: 1, threads });
      await pool.run(() => 0); // the worker is ready: the call is sent from apply() itself
      const err = await pool.apply((o: unknown) => o, [1, withThrowingGetter()]).catch((e) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/^argument 1 \(at \.b\) could not be sent to worker 0: a getter threw: getter boom\. /);
      expect(await pool.apply((x: number) => x + 1, [1])).toBe(2);
    });

    it("a bad map item right after new Pool() (sent when the worker says it is ready) fails the map, not the program", async () => {
      await using pool = new Pool({ workers: 2, threads });
      const items: unknown[] = [0, 1, 2, { nested: [withThrowingGetter()] }, 4];
      const err = await pool.map((x: unknown) => x, items, { chunksize: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/^item 3 \(at \.nested\[0\]\.b\) could not be sent to worker \d: a getter threw: getter boom\./);
      expect(await pool.map((x: number) => x * 2, [1, 2, 3])).toEqual([2, 4, 6]);
    });

    it("data nested too deeply fails with a clear error, however deep (no stack overflow, no hang)", async () => {
      await using pool = new Pool({ workers: 1, threads });
      await pool.run(() => 0);
      expect(await pool.apply(length, [linkedList(900)])).toBe(900);
      for (const depth of [2000, 3000, 50_000]) {
        const err = await pool.apply(length, [linkedList(depth)]).catch((e) => e);
        expect(err).toBeInstanceOf(TypeError);
        expect(err.message).toMatch(/^argument 0 could not be sent to worker 0: it is nested too deeply \(more than 1000 levels/);
      }
      expect(await pool.apply(() => "still working")).toBe("still working");
    });

    it("pushed bindings and dependency values that cannot be sent are named too", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const pushed = await pool.push({ fine: 1, cfg: { inner: withThrowingGetter() } }).catch((e) => e);
      expect(pushed.message).toMatch(/^pushed binding "cfg" \(at \.inner\.b\) could not be sent to worker 0: a getter threw: getter boom/);
      const dep = await pool.apply({ fn: "() => table.length", deps: [{ name: "table", value: linkedList(5000) }] }).catch((e) => e);
      expect(dep).toBeInstanceOf(TypeError);
      expect(dep.message).toMatch(/nested too deeply/);
      expect(await pool.apply({ fn: "() => table.length", deps: [{ name: "table", value: [1, 2, 3] }] })).toBe(3);
    });
  });
}

describe("process workers only", () => {
  it("a message the worker cannot read (too deep for its stack, though the parent could write it) fails its job", async () => {
    await using pool = new Pool({ workers: 1 });
    // class instances are left to structured clone as they are, so the parent's depth check does not see this chain
    class Node { constructor(readonly value: number, readonly next: Node | null) {} }
    let chain: Node | null = null;
    for (let i = 0; i < 2500; i++) chain = new Node(i, chain);
    await pool.run(() => 0);
    const err = await pool.apply((l: { next: unknown } | null) => { let n = 0; while (l) { n++; l = l.next as { next: unknown } | null; } return n; }, [chain])
      .catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/^the task could not be started: worker 0 could not read the message it was sent \(RangeError: Maximum call stack size exceeded\)/);
    expect(await pool.apply((x: number) => x * 2, [21])).toBe(42);
    expect(pool.status().workers[0].restarts).toBe(0);
  });

  it("a SharedArrayBuffer, or a typed array over one, is refused instead of silently copied", async () => {
    await using pool = new Pool({ workers: 1 });
    const counts = new Int32Array(new SharedArrayBuffer(8));
    const err = await pool.apply((o: { counts: Int32Array }) => Atomics.add(o.counts, 0, 1), [{ counts }]).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/^argument 0 \(at \.counts\) could not be sent to worker 0: a SharedArrayBuffer cannot be shared with a process worker .*SharedArray or Value, or a pool with threads: true/);
    const raw = await pool.map((b: SharedArrayBuffer) => b.byteLength, [counts.buffer as SharedArrayBuffer]).catch((e) => e);
    expect(raw.message).toMatch(/^item 0 could not be sent to worker 0: a SharedArrayBuffer/);
    const dep = await pool.apply({ fn: "() => table[0]", deps: [{ name: "table", value: counts }] }).catch((e) => e);
    expect(dep.message).toMatch(/^dependency "table" could not be sent to worker 0: a SharedArrayBuffer/);
    expect(await pool.apply(() => "still working")).toBe("still working");
  });
});

describe("thread workers only", () => {
  it("shared memory is shared with threads, as before", async () => {
    await using pool = new Pool({ workers: 2, threads: true });
    const counts = new Int32Array(new SharedArrayBuffer(8));
    await pool.run((c: Int32Array) => { for (let i = 0; i < 1000; i++) Atomics.add(c, 0, 1); }, { args: [counts] });
    expect(counts[0]).toBe(2000);
  });
});

describe("Process", () => {
  it("a target that is not a function fails at once with a TypeError", () => {
    expect(() => new Process({ target: 5 as never })).toThrow(TypeError);
    expect(() => new Process({ target: 5 as never })).toThrow(/target must be a function, \{ fn: .*got number/);
  });
});
