/**
 * Interrupting a task, or its timeout, stops its code where it is (V8's terminateExecution when it
 * is busy): no `finally` runs, so `withLock` cannot release. What the task took of a Lock, RLock or
 * semaphore is given back before the worker takes its next task, as Python's KeyboardInterrupt
 * unwinds `with lock:`; what the worker holds on purpose from earlier tasks stays held; the worker
 * and its state stay.
 */
import { describe, expect, it } from "vitest";
import {
  BoundedSemaphore, Condition, Event, InterruptedError, Lock, RLock, Semaphore, TaskTimeoutError, Value, setAbortSource,
} from "../../dist/farm/index.js";
import { kinds, sleep, usePools, within, type Kind } from "./pools.js";

/** Takes the lock with withLock, says so, and spins inside it. */
const spinInsideWithLock = async (lock: Lock | RLock, entered: Event) => {
  (globalThis as any).state = "kept";
  await lock.withLock(async () => {
    await entered.set();
    for (;;);
  });
};

describe("a task stopped while holding", () => {
  const pool = usePools();

  /** pid/threadId/restarts of worker 0: equal before and after means the worker was kept. */
  const identity = (kind: Kind) => {
    const w = pool(kind).status().workers[0]!;
    return [w.pid, w.threadId, w.restarts];
  };

  /** Runs `task` on worker 0, waits until it set `entered`, interrupts, and checks it was stopped. */
  async function interruptInside(kind: Kind, task: (...a: any[]) => unknown, args: unknown[], entered: Event) {
    const before = identity(kind);
    const running = pool(kind).run(task, { args, targets: [0] });
    running.catch(() => {});
    await within(entered.wait(), 20_000, "the task entering its critical section");
    await pool(kind).interrupt();
    await expect(running).rejects.toBeInstanceOf(InterruptedError);
    expect(identity(kind)).toEqual(before);
  }

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("interrupted inside withLock: the lock is free once interrupt() resolves, the worker and its state stay", async () => {
        const lock = new Lock();
        const entered = new Event();
        await interruptInside(kind, spinInsideWithLock, [lock, entered], entered);
        expect(await lock.locked()).toBe(false);
        expect(await lock.ownerDied()).toBe(false); // stopped like an exception, not a death
        expect(await pool(kind).run(async (l: Lock) => [(globalThis as any).state, await l.acquire({ timeout: 5000 }), await l.release()], { args: [lock], targets: [0] }))
          .toEqual([["kept", true, undefined]]);
      });

      it("timed out inside withLock: the lock is free and the worker goes on", async () => {
        const lock = new RLock();
        const entered = new Event();
        await pool(kind).run(() => 0); // code and handles shipped: the task below starts at once
        const before = identity(kind);
        const running = pool(kind).apply(spinInsideWithLock, [lock, entered], { timeout: 1500 });
        await expect(within(running, 30_000, "the timed-out task")).rejects.toBeInstanceOf(TaskTimeoutError);
        expect(await entered.isSet()).toBe(true); // it did hold the lock when it was stopped
        expect(await lock.locked()).toBe(false);
        expect(identity(kind)).toEqual(before);
        expect(await lock.acquire({ timeout: 0 })).toBe(true);
        await lock.release();
      });

      it("a bare acquire() (no withLock), semaphore permits included, is given back too", async () => {
        const lock = new Lock();
        const sem = new Semaphore(3);
        const bounded = new BoundedSemaphore(2);
        const entered = new Event();
        await interruptInside(kind, async (l: Lock, s: Semaphore, b: BoundedSemaphore, entered: Event) => {
          await l.acquire();
          await s.acquire();
          await s.acquire();
          await b.acquire();
          await entered.set();
          for (;;);
        }, [lock, sem, bounded, entered], entered);
        expect(await lock.locked()).toBe(false);
        expect(await sem.value()).toBe(3);
        expect(await bounded.value()).toBe(2);
      });

      it("stopped while awaiting inside withLock: freed at once, and its leftover code does not release what others took since", async () => {
        const lock = new Lock();
        const entered = new Event();
        const leftoverDone = new Event();
        await interruptInside(kind, async (l: Lock, entered: Event, done: Event) => {
          await l.withLock(async () => {
            await entered.set();
            await new Promise((r) => setTimeout(r, 600));
          });
          await done.set(); // the rest of the task still runs after the await (and the guard's release)
        }, [lock, entered, leftoverDone], entered);
        expect(await lock.locked()).toBe(false);
        expect(await lock.acquire({ timeout: 0 })).toBe(true); // the parent takes it
        expect(await within(leftoverDone.wait(), 20_000, "the leftover code of the stopped task")).toBe(true);
        expect(await lock.locked()).toBe(true); // still the parent's
        await lock.release();
      });

      it("what the worker holds on purpose from an earlier task stays held: only the stopped task's part goes back", async () => {
        const r = new RLock();
        const other = new Lock();
        expect(await pool(kind).run((r: RLock, o: Lock) => Promise.all([r.acquire(), o.acquire()]), { args: [r, other], targets: [0] }))
          .toEqual([[true, true]]);
        const entered = new Event();
        await interruptInside(kind, async (r: RLock, entered: Event) => {
          await r.acquire();
          await r.acquire();
          await entered.set();
          for (;;);
        }, [r, entered], entered);
        expect(await r.acquire({ timeout: 0 })).toBe(false); // still worker 0's, one level deep
        expect(await other.locked()).toBe(true);
        expect(await pool(kind).run(async (r: RLock, o: Lock) => {
          await r.release();
          await o.release();
          return [await r.locked(), await o.locked()];
        }, { args: [r, other], targets: [0] })).toEqual([[false, false]]);
      });

      it("interrupted in Condition.wait: the condition's lock is not taken back for the stopped task", async () => {
        for (const cond of [new Condition(), new Condition(new Lock())]) {
          const entered = new Event();
          await interruptInside(kind, async (c: Condition, entered: Event) => {
            await c.acquire();
            await entered.set();
            await c.wait();
          }, [cond, entered], entered);
          await sleep(100);
          expect(await within(cond.acquire({ timeout: 10_000 }), 15_000, "the parent taking the condition's lock")).toBe(true);
          await cond.release();
        }
      });
    });
  }

  it("a lock a map's items hold does not hang the map when one item kills its worker inside (with retries)", async () => {
    for (const kind of kinds) {
      const lock = new Lock();
      const killedOnce = new Value("i32", 0);
      const inside = new Value("i32", 0);
      const items = Array.from({ length: 10 }, (_, i) => [i, lock, killedOnce, inside] as const);
      const results = await within(pool(kind).starmap(async (x: number, l: Lock, killed: Value<"i32">, inside: Value<"i32">) => {
        await l.acquire();
        if (x === 3 && (await killed.compareExchange(0, 1)) === 0) process.exit(1);
        await inside.add(1);
        await l.release();
        return x * 10;
      }, items, { chunksize: 1, retries: 1 }), 30_000, `${kind.name}: the map`);
      expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
      expect(await inside.get()).toBe(10);
      expect(await lock.locked()).toBe(false);
      expect(await lock.ownerDied()).toBe(true);
    }
  });
});

describe("the main program's own unit of work (setAbortSource, e.g. a notebook cell)", () => {
  it("gives back what an interrupted cell took; what was taken outside it stays", async () => {
    const outside = new Lock();
    await outside.acquire();
    const lock = new Lock();
    const sem = new Semaphore(2);
    const cell = new AbortController();
    setAbortSource(() => cell.signal);
    try {
      await lock.acquire();
      await sem.acquire();
      cell.abort(new InterruptedError("cell interrupted"));
      expect(await lock.locked()).toBe(false);
      expect(await sem.value()).toBe(2);
      await expect(lock.acquire()).rejects.toThrow("cell interrupted");
    } finally {
      setAbortSource(null);
    }
    expect(await outside.locked()).toBe(true);
    expect(await lock.tryAcquire()).toBe(true);
  });
});
