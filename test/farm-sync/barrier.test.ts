import { describe, expect, it } from "vitest";
import { Barrier, BrokenBarrierError, SharedArray, Value } from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

/**
 * Each participant (ids from `tickets`) writes the round number into its slot, then reads all
 * slots; participant p is p*8 ms slow to write. Returns how many reads saw a stale slot.
 */
const rounds = async (barrier: Barrier | null, tickets: Value<"i32">, slots: SharedArray<"i32">, n: number) => {
  const me = (await tickets.add(1)) - 1;
  let stale = 0;
  for (let round = 1; round <= n; round++) {
    await new Promise((r) => setTimeout(r, me * 8));
    await slots.set(me, round);
    if (barrier) await barrier.wait();
    for (const x of await slots.toArray()) if (x < round) stale++;
    if (barrier) await barrier.wait();
  }
  return stale;
};

describe("Barrier", () => {
  const pool = usePools();

  it("releases all parties together, each with a distinct arrival index", async () => {
    const b = new Barrier(3);
    const indices = await Promise.all([b.wait(), b.wait(), b.wait()]);
    expect([...indices].sort()).toEqual([0, 1, 2]);
    expect(await b.nWaiting()).toBe(0);
  });

  it("a timeout breaks it for everybody until reset; abort() breaks it too", async () => {
    const b = new Barrier(3);
    const early = b.wait();
    await expect(b.wait({ timeout: 20 })).rejects.toThrow(/timed out with 2 of 3 parties waiting; the barrier is now broken/);
    await expect(early).rejects.toBeInstanceOf(BrokenBarrierError);
    await expect(b.wait()).rejects.toThrow(/broken/);
    await b.reset();
    expect(await b.broken()).toBe(false);
    const again = b.wait();
    await b.abort();
    await expect(again).rejects.toBeInstanceOf(BrokenBarrierError);
    expect(() => new Barrier(0)).toThrow(/parties must be an integer from 1/);
  });

  it("reset() fails the parties waiting at that moment", async () => {
    const b = new Barrier(2);
    const waiting = b.wait();
    await new Promise((r) => setTimeout(r, 10));
    await b.reset();
    await expect(waiting).rejects.toThrow(/reset while this party was waiting/);
    expect(await Promise.all([b.wait(), b.wait()])).toHaveLength(2);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("without a barrier, fast participants read slots the slow ones have not written yet", async () => {
        const tickets = new Value("i32", 0);
        const slots = new SharedArray("i32", 3);
        const [workers, parent] = await Promise.all([pool(kind).run(rounds, { args: [null, tickets, slots, 4] }), rounds(null, tickets, slots, 4)]);
        expect([...workers, parent].reduce((a, b) => a + b)).toBeGreaterThan(0);
      });

      it("with a Barrier of 3 (2 workers and the parent), every read sees the whole round", async () => {
        const tickets = new Value("i32", 0);
        const slots = new SharedArray("i32", 3);
        const barrier = new Barrier(3);
        const [workers, parent] = await Promise.all([pool(kind).run(rounds, { args: [barrier, tickets, slots, 4] }), rounds(barrier, tickets, slots, 4)]);
        expect([...workers, parent]).toEqual([0, 0, 0]);
      });

      it("the action runs once per round in the parent, after everybody arrived and before anybody leaves", async () => {
        const tickets = new Value("i32", 0);
        const slots = new SharedArray("i32", 3);
        const seenByAction: number[][] = [];
        const barrier = new Barrier(3, { action: () => { seenByAction.push(Array.from(slots.array)); } });
        await Promise.all([pool(kind).run(rounds, { args: [barrier, tickets, slots, 3] }), rounds(barrier, tickets, slots, 3)]);
        // two waits per round: after the writes (all slots = round) and after the reads
        expect(seenByAction).toEqual([[1, 1, 1], [1, 1, 1], [2, 2, 2], [2, 2, 2], [3, 3, 3], [3, 3, 3]]);
      });

      it("an action that throws breaks the barrier: the last party gets the error, the others BrokenBarrierError", async () => {
        const barrier = new Barrier(3, { action: () => { throw new Error("action failed"); } });
        const outcome = (b: Barrier) => b.wait({ timeout: 10_000 }).then(() => "passed", (e: Error) => `${e.name}: ${e.message}`);
        const results = (await Promise.all([pool(kind).run(outcome, { args: [barrier] }), outcome(barrier)])).flat();
        expect(results.filter((r) => r.includes("action failed"))).toHaveLength(1);
        expect(results.filter((r) => r.startsWith("BrokenBarrierError"))).toHaveLength(2);
        expect(await barrier.broken()).toBe(true);
      });

      it("a worker waiting at a barrier the parent aborts gets BrokenBarrierError", async () => {
        const b = new Barrier(3);
        const r = pool(kind).run((b: Barrier) => b.wait().then(() => "passed", (e: Error) => e.name), { args: [b], targets: [0] });
        await new Promise((r) => setTimeout(r, 30));
        await b.abort();
        expect(await r).toEqual(["BrokenBarrierError"]);
      });
    });
  }
});
