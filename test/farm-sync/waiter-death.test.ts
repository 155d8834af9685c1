/**
 * A worker that ends while it waits on a primitive, or with something of it in hand, must not
 * leave the others hanging (the pool never hangs when a worker dies), and process and thread
 * workers must behave the same:
 * - Condition: a waiter that ended does not swallow a notification (nor take a waiter slot for ever);
 * - Barrier: a party that ended breaks the barrier, saying so;
 * - JoinableQueue: items a consumer took to its end count as done and join() reports them lost;
 * - Pipe: the end a worker held closes when it ends: the other end reads what was sent, then EOF.
 */
import { describe, expect, it } from "vitest";
import {
  Barrier, BrokenBarrierError, Condition, ConnectionClosedError, Event, JoinableQueue, Lock, Pipe, TaskLostError,
  WorkerCrashedError, type Connection,
} from "../../dist/farm/index.js";
import { kinds, sleep, usePools, within } from "./pools.js";

/** Resolves once `n` parties wait at `b`. */
async function untilWaiting(b: Barrier, n: number): Promise<void> {
  await within((async () => { while ((await b.nWaiting()) < n) await sleep(10); })(), 20_000, `${n} parties at the barrier`);
}

describe("a worker that ends while waiting, or with something in hand", () => {
  const pool = usePools();

  for (const kind of kinds) {
    describe(kind.name, () => {
      /**
       * Worker `target` waits on `cond` (without a timeout) and exits when `die` is set. Resolves once
       * it is waiting, with the task in a box (an async function returning the task itself would wait for it).
       */
      async function waiterThatDies(cond: Condition, die: Event, target: number) {
        const inWait = new Event();
        const dier = pool(kind).run(async (c: Condition, inWait: Event, die: Event) => {
          await c.acquire();
          void die.wait().then(() => process.exit(3));
          await inWait.set();
          await c.wait();
        }, { args: [cond, inWait, die], targets: [target] });
        dier.catch(() => {});
        await within(inWait.wait(), 20_000, "the first waiter starting to wait");
        return { dier };
      }

      /** Worker `target` waits on `cond` without a timeout and returns what wait() said. Resolves once it is waiting (task boxed, as above). */
      async function liveWaiter(cond: Condition, target: number) {
        const inWait = new Event();
        const waiter = pool(kind).run(async (c: Condition, inWait: Event) => {
          await c.acquire();
          await inWait.set();
          const woke = await c.wait();
          await c.release();
          return woke;
        }, { args: [cond, inWait], targets: [target] });
        await within(inWait.wait(), 20_000, "the live waiter starting to wait");
        return { waiter };
      }

      it("Condition: a waiter that died does not swallow the next notify(1), nor keep a waiter slot", async () => {
        const cond = new Condition(new Lock());
        const die = new Event();
        const { dier } = await waiterThatDies(cond, die, 0);
        await cond.acquire(); // the waiter gave the lock up: it is waiting
        await cond.release();
        await die.set();
        await expect(dier).rejects.toBeInstanceOf(WorkerCrashedError);

        const { waiter } = await liveWaiter(cond, 1);
        await cond.acquire();
        await cond.notify(1);
        await cond.release();
        expect(await within(waiter, 20_000, "the live waiter (no timeout)")).toEqual([true]);

        // every slot is usable again: 1100 waits in a row (more than the 1024 slots) all work
        await cond.acquire();
        for (let i = 0; i < 1100; i++) expect(await cond.wait({ timeout: 0 })).toBe(false);
        await cond.release();
      });

      it("Condition: a notification given to a waiter whose worker ended before its wait() returned goes to the next waiter", async () => {
        const cond = new Condition(new Lock());
        const die = new Event();
        const { dier } = await waiterThatDies(cond, die, 0);
        const { waiter } = await liveWaiter(cond, 1);
        await cond.acquire(); // both wait now, the dying one first in line
        await cond.notify(1); // goes to the dying waiter, which cannot get the lock back while we hold it
        await die.set();
        await expect(dier).rejects.toBeInstanceOf(WorkerCrashedError);
        await cond.release();
        expect(await within(waiter, 20_000, "the live waiter (no timeout)")).toEqual([true]);
      });

      it("Barrier: a party whose worker ended breaks it, for the parties waiting and those still to come", async () => {
        const bar = new Barrier(3);
        const die = new Event();
        const dier = pool(kind).run(async (b: Barrier, die: Event) => {
          void die.wait().then(() => process.exit(3));
          await b.wait();
        }, { args: [bar, die], targets: [0] });
        dier.catch(() => {});
        await untilWaiting(bar, 1);
        const parent = bar.wait(); // 2 of 3: the third will never come while the first is gone
        parent.catch(() => {});
        await untilWaiting(bar, 2);
        await die.set();
        await expect(dier).rejects.toBeInstanceOf(WorkerCrashedError);
        const failure = await within(parent.then(() => null, (e: Error) => e), 20_000, "the parent waiting at the barrier (no timeout)");
        expect(failure).toBeInstanceOf(BrokenBarrierError);
        expect(failure!.message).toMatch(/while this party was waiting: the worker of a waiting party ended/);
        expect(await bar.broken()).toBe(true);
        const late = pool(kind).run((b: Barrier) => b.wait().then(() => "passed", (e: Error) => `${e.name}: ${e.message}`), { args: [bar], targets: [1] });
        expect((await late)[0]).toMatch(/^BrokenBarrierError: the Barrier is broken: the worker of a waiting party ended/);
        await bar.reset();
        expect(await bar.broken()).toBe(false);
      });

      it("Barrier: a party that was released and then ended leaves the next round alone", async () => {
        const bar = new Barrier(2);
        const first = pool(kind).run((b: Barrier) => b.wait(), { args: [bar], targets: [0] });
        await bar.wait();
        await first;
        await expect(pool(kind).run(() => process.exit(3), { targets: [0] })).rejects.toBeInstanceOf(WorkerCrashedError);
        expect(await bar.broken()).toBe(false);
        const second = pool(kind).run((b: Barrier) => b.wait(), { args: [bar], targets: [1] });
        const mine = await within(bar.wait(), 20_000, "the next round");
        expect([mine, (await second)[0]].sort()).toEqual([0, 1]);
      });

      it("JoinableQueue: an item a consumer took to its end counts as done, and join() says it was lost", async () => {
        const q = new JoinableQueue<number>();
        await q.put(1);
        await q.put(2);
        const joined = q.join(); // no timeout: it must settle all the same
        joined.catch(() => {});
        await expect(pool(kind).run(async (q: JoinableQueue<number>) => {
          await q.get();
          process.exit(3);
        }, { args: [q], targets: [0] })).rejects.toBeInstanceOf(WorkerCrashedError);
        const [got] = await pool(kind).run(async (q: JoinableQueue<number>) => {
          const x = await q.get();
          await q.taskDone();
          return x;
        }, { args: [q], targets: [1] });
        expect(got).toBe(2);
        const failure = await within(joined.then(() => null, (e: Error) => e), 20_000, "join() without a timeout");
        expect(failure).toBeInstanceOf(TaskLostError);
        expect(failure!.message).toMatch(/^1 item\(s\) of this JoinableQueue were taken by workers that ended before calling taskDone\(\) \(last: worker 0 ended with 1\)/);
        expect(await q.unfinished()).toBe(0);
        expect(await q.lostTasks()).toBe(1);
        // a worker that ends after marking its item done lost nothing
        await expect(pool(kind).run(() => process.exit(3), { targets: [1] })).rejects.toBeInstanceOf(WorkerCrashedError);
        expect(await q.lostTasks()).toBe(1);
        const [inWorker] = await pool(kind).run((q: JoinableQueue<number>) => q.join().then(() => "joined", (e: Error) => e.name), { args: [q], targets: [1] });
        expect(inWorker).toBe("TaskLostError");
        await q.clearLostTasks();
        expect(await q.join()).toBe(true);
        await q.put(3);
        expect(await q.join({ timeout: 0 })).toBe(false); // counting goes on as before
      });

      it("Pipe: when the worker holding one end ends, the other end reads what it sent, then gets end of file; sending fails", async () => {
        const [a, b] = Pipe<string>();
        const die = new Event();
        const dier = pool(kind).run(async (b: Connection<string>, die: Event) => {
          await b.send("last words");
          void die.wait().then(() => process.exit(3));
          await b.recv(); // waiting for something that never comes
        }, { args: [b, die], targets: [0] });
        dier.catch(() => {});
        expect(await within(a.recv(), 20_000, "the first message")).toBe("last words");
        const eof = a.recv(); // no timeout: it must settle all the same
        eof.catch(() => {});
        await die.set();
        await expect(dier).rejects.toBeInstanceOf(WorkerCrashedError);
        const failure = await within(eof.then(() => null, (e: Error) => e), 20_000, "recv() without a timeout");
        expect(failure).toBeInstanceOf(ConnectionClosedError);
        expect(failure!.message).toMatch(/^end of the Pipe: the other end was held by worker 0, which ended/);
        expect(await a.poll()).toBe(true); // like a closed file: readable, and reading says why
        await expect(a.send("anyone?")).rejects.toThrow(/^send\(\): the other end of the Pipe is closed \(it was held by worker 0, which ended\)/);
        const [later] = await pool(kind).run((b: Connection<string>) => b.recv().then(() => "received", (e: Error) => `${e.name}: ${e.message}`), { args: [b], targets: [1] });
        expect(later).toMatch(/^ConnectionClosedError: recv\(\) on a closed Connection \(it was held by worker 0, which ended\)/);
      });

      it("Pipe: a worker holds an end from receiving it, used or not; an end the parent uses itself stays open", async () => {
        const [a, b] = Pipe<string>();
        await pool(kind).run((b: Connection<string>) => typeof b, { args: [b], targets: [0] });
        await expect(pool(kind).run(() => process.exit(3), { targets: [0] })).rejects.toBeInstanceOf(WorkerCrashedError);
        await expect(within(a.recv(), 20_000, "recv() on the other end")).rejects.toBeInstanceOf(ConnectionClosedError);

        const [c, d] = Pipe<string>();
        await d.send("from the parent");
        await pool(kind).run((d: Connection<string>) => d.send("from worker 0"), { args: [d], targets: [0] });
        await expect(pool(kind).run(() => process.exit(3), { targets: [0] })).rejects.toBeInstanceOf(WorkerCrashedError);
        await d.send("still open");
        expect([await c.recv(), await c.recv(), await c.recv()]).toEqual(["from the parent", "from worker 0", "still open"]);
        expect(await c.poll({ timeout: 50 })).toBe(false);
      });
    });
  }
});
