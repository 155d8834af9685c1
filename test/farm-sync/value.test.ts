import { describe, expect, it } from "vitest";
import { SharedArray, Value } from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

const N = 300;

/** The naive counter: read, pause 1 ms, write. Updates others make during the pause are lost. */
const readThenWrite = async (v: Value<"i32">, n: number) => {
  for (let i = 0; i < n; i++) {
    const x = await v.get();
    await new Promise((r) => setTimeout(r, 1));
    await v.set(x + 1);
  }
  return n;
};
const atomicAdd = async (v: Value<"i32"> | Value<"f64">, n: number, step: number) => {
  for (let i = 0; i < n; i++) {
    await v.add(step as never);
    await new Promise((r) => setImmediate(r));
  }
  return n;
};

describe("Value", () => {
  const pool = usePools();

  it("holds each element type, with bigint for 64-bit integers and wrap-around like typed arrays", async () => {
    expect(await new Value("f64", 1.25).get()).toBe(1.25);
    expect(await new Value("f32", 0.5).add(0.25)).toBe(0.75);
    expect(await new Value("i64", 2n ** 40n).add(1n)).toBe(2n ** 40n + 1n);
    expect(await new Value("u8", 255).add(1)).toBe(0);
    const v = new Value("i32", 7);
    expect(v.value).toBe(7);
    v.value = 9;
    expect(await v.compareExchange(9, 10)).toBe(9);
    expect(await v.get()).toBe(10);
  });

  it("rejects unknown types and values of the wrong type with what to use instead", async () => {
    expect(() => new Value("int" as never)).toThrow(/unknown element type "int"; use one of i8, u8/);
    await expect(new Value("i64").set(1 as never)).rejects.toThrow(/takes a bigint \(e\.g\. 1n\), got number/);
    await expect(new Value("f64").add("1" as never)).rejects.toThrow(/takes a number, got string/);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("get-then-set from 2 workers and the parent loses updates; add() is exact", async () => {
        const naive = new Value("i32", 0);
        await Promise.all([pool(kind).run(readThenWrite, { args: [naive, N] }), readThenWrite(naive, N)]);
        expect(await naive.get()).toBeLessThan(3 * N);

        const counter = new Value("i32", 0);
        await Promise.all([pool(kind).run(atomicAdd, { args: [counter, N, 1] }), atomicAdd(counter, N, 1)]);
        expect(await counter.get()).toBe(3 * N);
      });

      it("float adds are atomic too, and compound updates are exact under value.lock", async () => {
        const f = new Value("f64", 0);
        await Promise.all([pool(kind).run(atomicAdd, { args: [f, N, 0.5] }), atomicAdd(f, N, 0.5)]);
        expect(await f.get()).toBe(1.5 * N);

        const doubled = new Value("i32", 1);
        const twiceUnderLock = async (v: Value<"i32">, n: number) => {
          for (let i = 0; i < n; i++) {
            await v.withLock(async () => {
              const x = await v.get();
              await new Promise((r) => setImmediate(r));
              await v.set(x + 2);
            });
          }
          return n;
        };
        await Promise.all([pool(kind).run(twiceUnderLock, { args: [doubled, 50] }), twiceUnderLock(doubled, 50)]);
        expect(await doubled.get()).toBe(1 + 2 * 3 * 50);
      });

      it(`.value is synchronous where memory is shared and explains itself where it is not`, async () => {
        const v = new Value("i32", 5);
        const [r] = await pool(kind).run((v: Value<"i32">) => {
          try {
            v.value = v.value + 1;
            return "shared";
          } catch (e) {
            return (e as Error).message;
          }
        }, { args: [v], targets: [0] });
        if (kind.threads) {
          expect(r).toBe("shared");
          expect(v.value).toBe(6);
        } else {
          expect(r).toMatch(/Value\.value needs shared memory, which process workers do not have; use await value\.get\(\)/);
        }
      });
    });
  }
});

describe("SharedArray", () => {
  const pool = usePools();

  const histogram = async (bins: SharedArray<"i32">, atomic: boolean, n: number) => {
    for (let i = 0; i < n; i++) {
      const b = i % bins.length;
      if (atomic) await bins.add(b, 1);
      else {
        const x = await bins.get(b);
        await new Promise((r) => setTimeout(r, 1));
        await bins.set(b, x + 1);
      }
    }
    return n;
  };

  it("starts from a length or from values, copies out, writes in, and checks indices", async () => {
    const a = new SharedArray("f64", [1.5, 2.5, 3.5]);
    expect(a.length).toBe(3);
    expect(Array.from(await a.toArray())).toEqual([1.5, 2.5, 3.5]);
    await a.write([9, 8], 1);
    expect(Array.from(a.array)).toEqual([1.5, 9, 8]);
    await expect(a.get(3)).rejects.toThrow(/index 3 is outside 0\.\.2/);
    await expect(a.write([1, 2, 3], 1)).rejects.toThrow(/3 values at offset 1 do not fit in length 3/);
    expect(Array.from(new SharedArray("u16", 4).array)).toEqual([0, 0, 0, 0]);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("a histogram filled by 2 workers and the parent loses counts with get/set and is exact with add", async () => {
        const naive = new SharedArray("i32", 4);
        await Promise.all([pool(kind).run(histogram, { args: [naive, false, 200] }), histogram(naive, false, 200)]);
        expect((await naive.toArray()).reduce((a, b) => a + b, 0)).toBeLessThan(600);

        const bins = new SharedArray("i32", 4);
        await Promise.all([pool(kind).run(histogram, { args: [bins, true, 200] }), histogram(bins, true, 200)]);
        expect(Array.from(await bins.toArray())).toEqual([150, 150, 150, 150]);
      });

      it("thread workers use the typed array itself (Atomics on shared memory); process workers are told to use the methods", async () => {
        const a = new SharedArray("i32", 2);
        const direct = (a: SharedArray<"i32">) => {
          try {
            for (let i = 0; i < 1000; i++) Atomics.add(a.array, 0, 1);
            return "direct";
          } catch (e) {
            return (e as Error).message;
          }
        };
        const results = await pool(kind).run(direct, { args: [a] });
        if (kind.threads) {
          expect(results).toEqual(["direct", "direct"]);
          expect(a.array[0]).toBe(2000);
        } else {
          expect(results[0]).toMatch(/SharedArray\.array needs shared memory.*use await arr\.get\(i\)/);
        }
      });
    });
  }
});
