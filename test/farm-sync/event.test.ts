import { describe, expect, it } from "vitest";
import { Event, SharedArray } from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

/** A consumer that checks in, then reads the shared data, after waiting for `ready` if it is given one. */
const consume = async (ready: Event | null, data: SharedArray<"i32">, arrived: SharedArray<"i32">) => {
  await arrived.add(0, 1);
  if (ready) await ready.wait();
  let sum = 0;
  for (const x of await data.toArray()) sum += x;
  return sum;
};

describe("Event", () => {
  const pool = usePools();

  it("starts clear, wait times out, set wakes waiters, clear resets", async () => {
    const e = new Event();
    expect(await e.isSet()).toBe(false);
    expect(await e.wait({ timeout: 20 })).toBe(false);
    const waiting = e.wait();
    await e.set();
    expect(await waiting).toBe(true);
    expect(await e.wait({ timeout: 0 })).toBe(true);
    await e.clear();
    expect(await e.isSet()).toBe(false);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      /** Writes the data 50 ms after both consumers checked in. */
      const produce = async (data: SharedArray<"i32">, ready: Event | null, arrived: SharedArray<"i32">) => {
        while ((await arrived.get(0)) < 2) await new Promise((r) => setTimeout(r, 1));
        await new Promise((r) => setTimeout(r, 50));
        await data.write([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        await ready?.set();
      };

      it("without an event, workers read the data before the parent wrote it", async () => {
        const data = new SharedArray("i32", 10);
        const arrived = new SharedArray("i32", 1);
        const [sums] = await Promise.all([pool(kind).run(consume, { args: [null, data, arrived] }), produce(data, null, arrived)]);
        expect(sums).toEqual([0, 0]);
      });

      it("with an Event, every worker sees the complete data", async () => {
        const data = new SharedArray("i32", 10);
        const ready = new Event();
        const arrived = new SharedArray("i32", 1);
        const [sums] = await Promise.all([pool(kind).run(consume, { args: [ready, data, arrived] }), produce(data, ready, arrived)]);
        expect(sums).toEqual([55, 55]);
      });

      it("a worker can set it for the parent and the other worker", async () => {
        const e = new Event();
        const waiter = pool(kind).run((e: Event) => e.wait({ timeout: 5000 }), { args: [e], targets: [1] });
        const setter = pool(kind).run(async (e: Event) => { await new Promise((r) => setTimeout(r, 20)); await e.set(); return true; }, { args: [e], targets: [0] });
        expect(await e.wait({ timeout: 5000 })).toBe(true);
        expect(await Promise.all([waiter, setter])).toEqual([[true], [true]]);
      });
    });
  }
});
