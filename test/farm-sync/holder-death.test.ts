/**
 * A worker that ends while holding a Lock, RLock or semaphore permits (it exits, is killed, runs
 * out of memory) must not leave them held: every later user would wait forever. Its holds are
 * given back, the waiters go on, and `ownerDied()` tells them the data may be half-updated.
 */
import { describe, expect, it } from "vitest";
import {
  BoundedSemaphore, Condition, Event, HANDLE, Lock, Pool, RLock, Semaphore, Value, WorkerCrashedError, serveHandleCall,
} from "../../dist/farm/index.js";
import { kinds, sleep, usePools, within, type Kind } from "./pools.js";

type Holdable = Lock | RLock | Semaphore;

/** Takes `p` `times` times, says so, then waits for `die` and exits (or waits forever, to be killed). */
const holdThenDie = async (p: Holdable, times: number, held: Event, die: Event | null) => {
  for (let i = 0; i < times; i++) await p.acquire();
  await held.set();
  if (die === null) await new Promise(() => {});
  await die!.wait();
  process.exit(3);
};

/** Takes `p` once (waiting up to 20 s), reports whether it got it and whether its owner died, gives it back. */
const takeAndReport = async (p: Holdable) => {
  const got = await p.acquire({ timeout: 20_000 });
  const died = await p.ownerDied();
  if (got) await p.release();
  return { got, died };
};

describe("a worker that ends while holding", () => {
  const pool = usePools();

  /**
   * Worker 0 takes `p` `times` times and dies; worker 1 is already waiting for it. Returns what
   * worker 1 saw. Before the death, checks that `p` really is held (worker 1 and the parent wait).
   */
  async function dieHolding(kind: Kind, p: Holdable, times: number, how: "exit" | "SIGKILL") {
    const held = new Event();
    const die = new Event();
    const dier = pool(kind).run(holdThenDie, { args: [p, times, held, how === "exit" ? die : null], targets: [0] });
    dier.catch(() => {});
    await within(held.wait(), 20_000, "worker 0 taking it");
    const waiter = pool(kind).run(takeAndReport, { args: [p], targets: [1] });
    await sleep(100);
    expect(await p.acquire({ timeout: 0 })).toBe(false); // held: nobody gets in
    expect(await p.ownerDied()).toBe(false);
    if (how === "exit") await die.set();
    else process.kill(pool(kind).status().workers[0]!.pid, "SIGKILL");
    await expect(dier).rejects.toBeInstanceOf(WorkerCrashedError);
    const [seen] = await within(waiter, 20_000, "worker 1 waiting for what the dead worker held");
    return seen!;
  }

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("a Lock: the worker waiting for it gets it and learns that its owner died; clearOwnerDied() resets that", async () => {
        const lock = new Lock();
        expect(await dieHolding(kind, lock, 1, "exit")).toEqual({ got: true, died: true });
        expect(await lock.locked()).toBe(false);
        expect(await lock.ownerDied()).toBe(true);
        const [inWorker] = await pool(kind).run(async (l: Lock) => { const d = await l.ownerDied(); await l.clearOwnerDied(); return d; }, { args: [lock], targets: [0] });
        expect(inWorker).toBe(true);
        expect(await lock.ownerDied()).toBe(false);
        expect(await lock.tryAcquire()).toBe(true);
        await lock.release();
      });

      it("an RLock taken 3 levels deep is freed entirely", async () => {
        const r = new RLock();
        expect(await dieHolding(kind, r, 3, "exit")).toEqual({ got: true, died: true });
        expect(await r.locked()).toBe(false);
        expect(await r.acquire({ timeout: 0 })).toBe(true);
        expect(await r.isMine()).toBe(true);
        await r.release();
        expect(await r.locked()).toBe(false);
      });

      it("semaphore permits go back; permits held by others stay taken", async () => {
        const s = new Semaphore(3);
        expect(await s.acquire()).toBe(true); // the parent keeps one
        const seen = await dieHolding(kind, s, 2, "exit");
        expect(seen).toEqual({ got: true, died: true });
        expect(await s.value()).toBe(2);
        await s.release();
        expect(await s.value()).toBe(3);

        const b = new BoundedSemaphore(2);
        expect(await dieHolding(kind, b, 2, "exit")).toEqual({ got: true, died: true });
        expect(await b.value()).toBe(2);
        await expect(b.release()).rejects.toThrow(/released too many times/);
      });

      it("a semaphore used as a signal (created at 0) does not make up a signal the dead worker consumed", async () => {
        const signal = new Semaphore(0);
        await signal.release(); // one signal, consumed by worker 0 before it dies
        const held = new Event();
        const die = new Event();
        const dier = pool(kind).run(holdThenDie, { args: [signal, 1, held, die], targets: [0] });
        dier.catch(() => {});
        await within(held.wait(), 20_000, "worker 0 taking the signal");
        await die.set();
        await expect(dier).rejects.toBeInstanceOf(WorkerCrashedError);
        expect(await signal.value()).toBe(0);
      });

      it("the lock of a Condition: the parent gets it and a worker waiting on the condition is still notified", async () => {
        const cond = new Condition(new Lock());
        const ready = new Value("i32", 0);
        const waiter = pool(kind).run(async (c: Condition, ready: Value<"i32">) => {
          await c.acquire();
          const ok = await c.waitFor(async () => (await ready.get()) === 1, { timeout: 20_000 });
          await c.release();
          return ok;
        }, { args: [cond, ready], targets: [1] });
        await sleep(200);
        const held = new Event();
        const die = new Event();
        const dier = pool(kind).run(holdThenDie, { args: [cond.lock, 1, held, die], targets: [0] });
        dier.catch(() => {});
        await within(held.wait(), 20_000, "worker 0 taking the condition's lock");
        await die.set();
        await expect(dier).rejects.toBeInstanceOf(WorkerCrashedError);
        expect(await within(cond.acquire({ timeout: 20_000 }), 25_000, "the parent taking the condition's lock")).toBe(true);
        expect(await cond.lock.ownerDied()).toBe(true);
        await ready.set(1);
        await cond.notifyAll();
        await cond.release();
        expect(await within(waiter, 20_000, "the worker waiting on the condition")).toEqual([true]);
      });

      it("a lock kept across tasks on purpose stays held until the worker ends", async () => {
        const lock = new Lock();
        expect(await pool(kind).run((l: Lock) => l.acquire(), { args: [lock], targets: [0] })).toEqual([true]);
        await sleep(50);
        expect(await lock.locked()).toBe(true);
        const [code] = await pool(kind).run(() => {
          process.exit(5);
        }, { targets: [0] }).then(() => [null], (e: WorkerCrashedError) => [e.exitCode]);
        expect(code).toBe(5);
        expect(await within(lock.acquire({ timeout: 20_000 }), 25_000, "the parent taking the lock")).toBe(true);
        expect(await lock.ownerDied()).toBe(true);
      });
    });
  }

  it("process workers: killed with SIGKILL while holding a Lock", async () => {
    const lock = new Lock();
    expect(await dieHolding(kinds[0], lock, 1, "SIGKILL")).toEqual({ got: true, died: true });
  });

  it("thread workers: a Lock created inside a thread worker and shared through the parent is released when that thread dies", async () => {
    const make = {
      fn: "async () => { const l = new Lock(); await l.acquire(); globalThis.mine = l; return l; }",
      deps: [{ name: "Lock", import: new URL("../../dist/farm/index.js", import.meta.url).href, imported: "Lock" }],
    };
    const [lock] = (await pool(kinds[1]).run(make, { targets: [0] })) as Lock[];
    const waiter = pool(kinds[1]).run(takeAndReport, { args: [lock!], targets: [1] });
    await sleep(100);
    expect(await lock!.locked()).toBe(true);
    await expect(pool(kinds[1]).run(() => process.exit(4), { targets: [0] })).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await within(waiter, 20_000, "worker 1 waiting for the lock")).toEqual([{ got: true, died: true }]);
  });

  it("thread workers: a worker that runs out of memory while holding a Lock", async () => {
    const pool = new Pool({ workers: 2, threads: true, resourceLimits: { maxOldGenerationSizeMb: 24 } });
    try {
      const lock = new Lock();
      const dier = pool.run(async (l: Lock) => {
        await l.acquire();
        const hoard: number[][] = [];
        for (;;) hoard.push(new Array(100_000).fill(Math.random()));
      }, { args: [lock], targets: [0] });
      const crash = await within(dier.then(() => null, (e) => e), 30_000, "the worker running out of memory");
      expect(crash).toBeInstanceOf(WorkerCrashedError);
      expect((crash as WorkerCrashedError).signal).toBe("ERR_WORKER_OUT_OF_MEMORY");
      expect(await within(pool.run(takeAndReport, { args: [lock], targets: [1] }), 20_000, "worker 1 taking the lock")).toEqual([{ got: true, died: true }]);
    } finally {
      await pool.terminate();
    }
  });

  it("the parent gives back what it took for a worker when that worker's life signal aborts", async () => {
    const lock = new Lock();
    const { id } = lock[HANDLE]();
    const life = new AbortController();
    const caller = { workerId: 7, signal: life.signal };
    expect(await serveHandleCall("Lock", id, "acquire", [null], caller)).toEqual({ got: true, held: 1 });
    const r = new RLock();
    const rid = r[HANDLE]().id;
    await serveHandleCall("RLock", rid, "acquire", [null], caller);
    await serveHandleCall("RLock", rid, "acquire", [null], caller);
    expect(await r.locked()).toBe(true);
    life.abort(new Error("worker 7 exited"));
    expect(await lock.locked()).toBe(false);
    expect(await r.locked()).toBe(false);
    expect(await lock.ownerDied()).toBe(true);
    expect(await r.ownerDied()).toBe(true);
  });

  it("a semaphore gives back the permits of every worker it serves that ended, however many (more than 64)", async () => {
    const sem = new Semaphore(100);
    const { id } = sem[HANDLE]();
    const lives: AbortController[] = [];
    for (let w = 0; w < 70; w++) {
      const life = new AbortController();
      lives.push(life);
      await serveHandleCall("Semaphore", id, "acquire", [null], { workerId: w, signal: life.signal });
    }
    expect(await sem.value()).toBe(30);
    for (const [w, life] of lives.entries()) life.abort(new Error(`worker ${w} exited`));
    expect(await sem.value()).toBe(100);
    expect(await sem.ownerDied()).toBe(true);
  });

  it("a Condition that would take its lock back for a worker that ended meanwhile does not", async () => {
    const cond = new Condition(new Lock());
    const cid = cond[HANDLE]().id;
    const lid = cond.lock[HANDLE]().id;
    const life = new AbortController();
    const caller = { workerId: 8, signal: life.signal };
    expect(await serveHandleCall("Lock", lid, "acquire", [null], caller)).toEqual({ got: true, held: 1 });
    const waiting = serveHandleCall("Condition", cid, "wait", [null], caller);
    waiting.catch(() => {});
    await sleep(50);
    await cond.acquire(); // the wait gave the lock up
    await cond.notify(); // notified: it now waits to take the lock back
    await sleep(50);
    life.abort(new Error("worker 8 exited"));
    await cond.release();
    await expect(waiting).rejects.toThrow("worker 8 exited");
    expect(await cond.lock.locked()).toBe(false);
  });
});
