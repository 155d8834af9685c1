import { describe, expect, it } from "vitest";
import { Lock, RLock, Value, SyncUsageError } from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

const N = 200;

/**
 * Read-modify-write with a 1 ms pause in the middle: every participant's pause overlaps the
 * others' reads, so without mutual exclusion updates are certainly lost.
 */
const increment = async (v: Value<"i32">, lock: Lock | RLock | null, n: number) => {
  const pause = () => new Promise((r) => setTimeout(r, 1));
  for (let i = 0; i < n; i++) {
    if (lock) await lock.acquire();
    const x = await v.get();
    await pause();
    await v.set(x + 1);
    if (lock) await lock.release();
  }
  return n;
};

describe("Lock", () => {
  const pool = usePools();

  it("is free, taken, refused with a timeout, and freed", async () => {
    const lock = new Lock();
    expect(await lock.locked()).toBe(false);
    expect(await lock.acquire()).toBe(true);
    expect(await lock.acquire({ timeout: 20 })).toBe(false);
    expect(await lock.tryAcquire()).toBe(false);
    await lock.release();
    expect(await lock.tryAcquire()).toBe(true);
    await lock.release();
  });

  it("says what is wrong when released while unlocked, and stays usable", async () => {
    const lock = new Lock();
    await expect(lock.release()).rejects.toThrow(/release\(\) of an unlocked Lock/);
    await expect(lock.release()).rejects.toBeInstanceOf(SyncUsageError);
    await expect(lock.acquire({ timeout: -1 })).rejects.toThrow(/timeout must be a number of milliseconds >= 0/);
    expect(await lock.acquire()).toBe(true);
  });

  it("withLock releases even when the body throws; hold() works with await using", async () => {
    const lock = new Lock();
    await expect(lock.withLock(() => { throw new Error("boom"); })).rejects.toThrow("boom");
    expect(await lock.locked()).toBe(false);
    {
      await using _held = await lock.hold();
      expect(await lock.locked()).toBe(true);
    }
    expect(await lock.locked()).toBe(false);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("without a lock, 2 workers and the parent lose updates of a shared value", async () => {
        const v = new Value("i32", 0);
        await Promise.all([pool(kind).run(increment, { args: [v, null, N] }), increment(v, null, N)]);
        expect(await v.get()).toBeLessThan(3 * N);
      });

      it("with a Lock, 2 workers and the parent count exactly", async () => {
        const v = new Value("i32", 0);
        const lock = new Lock();
        await Promise.all([pool(kind).run(increment, { args: [v, lock, N] }), increment(v, lock, N)]);
        expect(await v.get()).toBe(3 * N);
        expect(await lock.locked()).toBe(false);
      });

      it("a worker's acquire times out while the parent holds the lock, and succeeds once it is released", async () => {
        const lock = new Lock();
        await lock.acquire();
        const [timedOut] = await pool(kind).run((l: Lock) => l.acquire({ timeout: 30 }), { args: [lock], targets: [0] });
        expect(timedOut).toBe(false);
        const waiting = pool(kind).run(async (l: Lock) => { const got = await l.acquire(); await l.release(); return got; }, { args: [lock], targets: [1] });
        await new Promise((r) => setTimeout(r, 30));
        await lock.release();
        expect(await waiting).toEqual([true]);
      });

      it("a worker's misuse comes back as the same error class", async () => {
        const lock = new Lock();
        const [result] = await pool(kind).run(
          async (l: Lock) => l.release().then(() => "released", (e: Error) => `${e.name}: ${e.message}`),
          { args: [lock], targets: [0] },
        );
        expect(result).toMatch(/^SyncUsageError: release\(\) of an unlocked Lock/);
      });

      it("a worker interrupted while waiting for the lock does not take it afterwards; the worker stays", async () => {
        const lock = new Lock();
        await lock.acquire();
        const before = pool(kind).status().workers[0]!;
        const victim = pool(kind).run(async (l: Lock) => {
          const got = await l.acquire();
          (globalThis as any).tookLockAfterStop = got;
          return got;
        }, { args: [lock], targets: [0] });
        victim.catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
        await pool(kind).interrupt();
        await expect(victim).rejects.toThrow(/interrupted/);
        await lock.release();
        await new Promise((r) => setTimeout(r, 50));
        expect(await lock.locked()).toBe(false);
        expect(await pool(kind).run(() => (globalThis as any).tookLockAfterStop ?? "never", { targets: [0] })).toEqual(["never"]);
        const after = pool(kind).status().workers[0]!;
        expect([after.pid, after.threadId, after.restarts]).toEqual([before.pid, before.threadId, before.restarts]);
        expect(await pool(kind).run((l: Lock) => l.acquire({ timeout: 1000 }).then((ok) => l.release().then(() => ok)), { args: [lock], targets: [0] })).toEqual([true]);
      });

      // (a thread worker cannot be killed alone: the test above covers its waits)
      if (!kind.threads) it("a worker killed while waiting for the lock does not take it afterwards", async () => {
        const lock = new Lock();
        await lock.acquire();
        const victim = pool(kind).run((l: Lock) => l.acquire(), { args: [lock], targets: [0] });
        victim.catch(() => {});
        await new Promise((r) => setTimeout(r, 30));
        process.kill(pool(kind).status().workers[0]!.pid, "SIGKILL");
        await expect(victim).rejects.toThrow();
        await lock.release();
        await new Promise((r) => setTimeout(r, 20));
        expect(await lock.locked()).toBe(false);
        expect(await pool(kind).run((l: Lock) => l.acquire({ timeout: 1000 }), { args: [lock], targets: [0] })).toEqual([true]);
      });

      it("a Lock created in a worker: shared memory when it is a thread, a clear error when it is a process", async () => {
        const make = {
          fn: "async () => { const l = new Lock(); await l.acquire(); globalThis.madeHere = l; return l; }",
          deps: [{ name: "Lock", import: new URL("../../dist/farm/index.js", import.meta.url).href, imported: "Lock" }],
        };
        const [lock] = (await pool(kind).run(make, { targets: [0] })) as Lock[];
        if (kind.threads) {
          expect(await lock!.locked()).toBe(true);
          await lock!.release();
          expect(await pool(kind).run(() => (globalThis as any).madeHere.locked(), { targets: [0] })).toEqual([false]);
          expect(await pool(kind).run((l: Lock) => l === (globalThis as any).madeHere, { args: [lock], targets: [0] })).toEqual([true]);
        } else {
          await expect(lock!.locked()).rejects.toThrow(/created inside a worker and can only be used in that worker; create Locks in the main program/);
        }
      });

      it("a worker's acquire aborted by its signal is withdrawn: the lock is not taken later", async () => {
        const lock = new Lock();
        await lock.acquire();
        const [outcome] = await pool(kind).run(async (l: Lock) => {
          const ac = new AbortController();
          setTimeout(() => ac.abort(new Error("gave up")), 30);
          return l.acquire({ signal: ac.signal }).then(() => "acquired", (e: Error) => e.message);
        }, { args: [lock], targets: [0] });
        expect(outcome).toBe("gave up");
        await lock.release();
        await new Promise((r) => setTimeout(r, 20));
        expect(await lock.locked()).toBe(false);
      });

      it("a lock passed back from a worker is the parent's own lock", async () => {
        const lock = new Lock();
        const [back] = await pool(kind).run((l: Lock) => l, { args: [lock], targets: [0] });
        expect(back).toBe(lock);
      });
    });
  }
});

describe("RLock", () => {
  const pool = usePools();

  /** Increments twice inside an outer critical section: needs re-entry into a held lock. */
  const nested = async (v: Value<"i32">, lock: Lock | RLock, n: number) => {
    const pause = () => new Promise((r) => setTimeout(r, 1));
    const inc = async () => {
      if (!(await lock.acquire({ timeout: 200 }))) throw new Error("deadlock: could not re-acquire");
      const x = await v.get();
      await pause();
      await v.set(x + 1);
      await lock.release();
    };
    for (let i = 0; i < n; i++) {
      await lock.acquire();
      try {
        await inc();
        await inc();
      } finally {
        await lock.release();
      }
    }
    return n;
  };

  it("is re-entrant for its owner and must be released as often as acquired", async () => {
    const r = new RLock();
    expect(await r.acquire()).toBe(true);
    expect(await r.acquire()).toBe(true);
    await r.release();
    expect(await r.locked()).toBe(true);
    await r.release();
    expect(await r.locked()).toBe(false);
    await expect(r.release()).rejects.toThrow(/release\(\) of an unlocked RLock/);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("a plain Lock deadlocks on re-entry; an RLock lets its owner in and still keeps others out", async () => {
        const v = new Value("i32", 0);
        const [deadlocked] = await pool(kind).run(
          (v: Value<"i32">, l: Lock, f: string) => new Function(`return ${f}`)()(v, l, 1).then(() => "ok", (e: Error) => e.message),
          { args: [v, new Lock(), nested.toString()], targets: [0] },
        );
        expect(deadlocked).toMatch(/deadlock/);

        const rlock = new RLock();
        const counter = new Value("i32", 0);
        await Promise.all([pool(kind).run(nested, { args: [counter, rlock, 50] }), nested(counter, rlock, 50)]);
        expect(await counter.get()).toBe(3 * 2 * 50);
        const unguarded = new Value("i32", 0);
        await Promise.all([pool(kind).run(increment, { args: [unguarded, null, 100] }), increment(unguarded, null, 100)]);
        expect(await unguarded.get()).toBeLessThan(3 * 100);
      });

      it("only its owner may release it", async () => {
        const r = new RLock();
        await r.acquire();
        const [msg] = await pool(kind).run(
          (l: RLock) => l.release().then(() => "released", (e: Error) => e.message),
          { args: [r], targets: [0] },
        );
        expect(msg).toMatch(/held by another worker: only its owner may release it/);
        const [mine] = await pool(kind).run((l: RLock) => l.isMine(), { args: [r], targets: [0] });
        expect(mine).toBe(false);
        expect(await r.isMine()).toBe(true);
        await r.release();
      });
    });
  }
});
