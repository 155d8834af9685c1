import { describe, expect, it } from "vitest";
import { Barrier, Condition, Lock, SharedArray, SyncUsageError } from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

/**
 * A consumer that takes `want` items from a shared stock (stock[0]), recording the lowest stock it
 * ever left behind in stock[1]. With a condition it waits for stock under the lock; without, it
 * polls and takes when it saw stock: check-then-act. `lineUp` (a Barrier) forces the bad
 * interleaving deterministically: both consumers have seen the stock before either takes.
 */
const consume = async (cond: Condition | null, stock: SharedArray<"i32">, want: number, lineUp: Barrier | null) => {
  const pause = () => new Promise((r) => setTimeout(r, 1));
  const take = async () => {
    await pause();
    const left = await stock.add(0, -1);
    for (;;) {
      const low = await stock.get(1);
      if (left >= low || (await stock.compareExchange(1, low, left)) === low) break;
    }
  };
  for (let got = 0; got < want; got++) {
    if (cond) {
      await cond.acquire();
      await cond.waitFor(async () => (await stock.get(0)) > 0);
      await take();
      await cond.release();
    } else {
      while ((await stock.get(0)) <= 0) await new Promise((r) => setImmediate(r));
      if (lineUp) await lineUp.wait();
      await take();
    }
  }
  return want;
};

const produce = async (cond: Condition | null, stock: SharedArray<"i32">, n: number) => {
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setTimeout(r, 3));
    if (cond) {
      await cond.withLock(async () => {
        await stock.add(0, 1);
        await cond.notify();
      });
    } else await stock.add(0, 1);
  }
};

describe("Condition", () => {
  const pool = usePools();

  it("needs its lock to wait or notify, and says so", async () => {
    const c = new Condition();
    await expect(c.wait()).rejects.toThrow(/needs the condition's lock: acquire it first/);
    await expect(c.notify()).rejects.toBeInstanceOf(SyncUsageError);
    await c.acquire();
    expect(await c.wait({ timeout: 10 })).toBe(false); // timed out, lock held again
    await c.notify();
    await c.release();
  });

  it("waitFor gives up after its timeout with the predicate's last value, lock held again", async () => {
    const c = new Condition();
    await c.acquire();
    let checks = 0;
    const result = await c.waitFor(() => { checks++; return 0; }, { timeout: 20 });
    expect(result).toBe(0);
    expect(checks).toBeGreaterThanOrEqual(2);
    expect(await c.lock.isMine()).toBe(true);
    await c.release();
  });

  it("notify(n) wakes exactly the n oldest waiters; notifyAll the rest", async () => {
    const c = new Condition(new Lock());
    const order: number[] = [];
    const waiter = async (i: number) => {
      await c.acquire();
      const woke = await c.wait({ timeout: 2000 });
      if (woke) order.push(i);
      await c.release();
      return woke;
    };
    const waiters = [waiter(0), waiter(1), waiter(2)];
    await new Promise((r) => setTimeout(r, 10));
    await c.withLock(() => c.notify(2));
    await new Promise((r) => setTimeout(r, 30));
    expect(order).toEqual([0, 1]);
    await c.withLock(() => c.notifyAll());
    expect(await Promise.all(waiters)).toEqual([true, true, true]);
    expect(order).toEqual([0, 1, 2]);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("without a condition, consumers that saw the one item both take it and the stock goes negative", async () => {
        const stock = new SharedArray("i32", 2);
        const lineUp = new Barrier(2);
        await Promise.all([pool(kind).run(consume, { args: [null, stock, 1, lineUp] }), produce(null, stock, 1)]);
        expect(await stock.get(0)).toBe(-1); // one item, taken twice
        expect(await stock.get(1)).toBe(-1);
      });

      it("with a Condition, consumers in both workers wait for stock and it never goes negative", async () => {
        const stock = new SharedArray("i32", 2);
        const cond = new Condition();
        const [taken] = await Promise.all([pool(kind).run(consume, { args: [cond, stock, 10, null] }), produce(cond, stock, 20)]);
        expect(taken).toEqual([10, 10]);
        expect(await stock.get(0)).toBe(0);
        expect(await stock.get(1)).toBe(0);
      });

      it("a worker's wait aborted by its signal comes back holding the lock, and can release it", async () => {
        const c = new Condition();
        const [r] = await pool(kind).run(async (c: Condition) => {
          await c.acquire();
          const ac = new AbortController();
          setTimeout(() => ac.abort(new Error("stop waiting")), 20);
          const outcome = await c.wait({ signal: ac.signal }).then(() => "woke", (e: Error) => e.message);
          const mine = await c.lock.isMine();
          await c.release();
          return [outcome, mine];
        }, { args: [c], targets: [0] });
        expect(r).toEqual(["stop waiting", true]);
        expect(await c.lock.locked()).toBe(false);
      });

      it("a worker's wait times out with the lock held again", async () => {
        const c = new Condition();
        const [r] = await pool(kind).run(async (c: Condition) => {
          await c.acquire();
          const woke = await c.wait({ timeout: 20 });
          const mine = await c.lock.isMine();
          await c.release();
          return [woke, mine];
        }, { args: [c], targets: [0] });
        expect(r).toEqual([false, true]);
        expect(await c.lock.locked()).toBe(false);
      });
    });
  }
});
