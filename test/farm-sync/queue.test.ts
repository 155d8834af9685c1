import { describe, expect, it } from "vitest";
import {
  Barrier, JoinableQueue, Lock, Queue, QueueEmptyError, QueueFullError, SharedArray, SyncUsageError, Value,
} from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

const JOBS = 40;

/** Claims job numbers from a shared counter (read, pause, write) until none are left; all claimers start together. */
const claimFromCounter = async (next: Value<"i32">, total: number, start: Barrier) => {
  const done: number[] = [];
  await start.wait();
  for (;;) {
    const job = await next.get();
    if (job >= total) return done;
    await new Promise((r) => setTimeout(r, 1));
    await next.set(job + 1);
    done.push(job);
  }
};
/** Takes job numbers from a queue until it gets the end marker (null). */
const claimFromQueue = async (q: Queue<number | null>) => {
  const done: number[] = [];
  for (;;) {
    const job = await q.get();
    if (job === null) return done;
    await new Promise((r) => setTimeout(r, 1));
    done.push(job);
  }
};

describe("Queue", () => {
  const pool = usePools();

  it("is first-in first-out, copies items on put, and says when it is empty or full", async () => {
    const q = new Queue<{ n: number }>({ maxsize: 2 });
    const item = { n: 1 };
    await q.put(item);
    item.n = 99; // changing it afterwards does not change what was queued
    await q.put({ n: 2 });
    expect(await q.full()).toBe(true);
    await expect(q.putNowait({ n: 3 })).rejects.toBeInstanceOf(QueueFullError);
    await expect(q.put({ n: 3 }, { timeout: 20 })).rejects.toThrow(/the queue is full \(maxsize 2\) and stayed full until the timeout/);
    expect(await q.get()).toEqual({ n: 1 });
    expect(await q.get()).toEqual({ n: 2 });
    await expect(q.getNowait()).rejects.toBeInstanceOf(QueueEmptyError);
    await expect(q.get({ timeout: 20 })).rejects.toThrow(/stayed empty until the timeout/);
    await expect(q.put((() => 1) as never)).rejects.toThrow(/cannot be copied.*structured-cloneable/);
    expect(() => new Queue(-1)).toThrow(/maxsize must be an integer >= 0/);
  });

  it("an aborted get gives up without taking an item", async () => {
    const q = new Queue<number>();
    const ac = new AbortController();
    const got = q.get({ signal: ac.signal });
    ac.abort(new Error("stop"));
    await expect(got).rejects.toThrow("stop");
    await q.put(1);
    expect(await q.get({ timeout: 0 })).toBe(1);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("workers claiming jobs from a shared counter do some twice; from a Queue each exactly once", async () => {
        const next = new Value("i32", 0);
        const [a, b] = await pool(kind).run(claimFromCounter, { args: [next, JOBS, new Barrier(2)] });
        const counted = [...a!, ...b!];
        expect(counted.length).toBeGreaterThan(new Set(counted).size); // duplicates

        const q = new Queue<number | null>();
        const running = pool(kind).run(claimFromQueue, { args: [q] });
        for (let j = 0; j < JOBS; j++) await q.put(j);
        await q.put(null);
        await q.put(null);
        const [x, y] = await running;
        expect([...x!, ...y!].sort((m, n) => m - n)).toEqual(Array.from({ length: JOBS }, (_, i) => i));
        expect(x!.length).toBeGreaterThan(0);
        expect(y!.length).toBeGreaterThan(0);
      });

      it("carries items from one worker to another, in order, with backpressure when bounded", async () => {
        const q = new Queue<number>({ maxsize: 2 });
        const producer = pool(kind).run(async (q: Queue<number>) => {
          let highest = 0;
          for (let i = 0; i < 20; i++) {
            await q.put(i);
            highest = Math.max(highest, await q.qsize());
          }
          return highest;
        }, { args: [q], targets: [0] });
        const consumer = pool(kind).run(async (q: Queue<number>) => {
          const got: number[] = [];
          for (let i = 0; i < 20; i++) {
            got.push(await q.get({ timeout: 5000 }));
            await new Promise((r) => setTimeout(r, 1));
          }
          return got;
        }, { args: [q], targets: [1] });
        const [[highest], [got]] = await Promise.all([producer, consumer]);
        expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(highest).toBeLessThanOrEqual(2);
      });

      it("items may carry handles: a Lock sent through the queue is the same lock", async () => {
        const q = new Queue<{ lock: Lock; label: string }>();
        const lock = new Lock();
        const [same] = await pool(kind).run(async (q: Queue<{ lock: Lock; label: string }>, lock: Lock) => {
          await q.put({ lock, label: "from worker" });
          const back = await q.get();
          return back.lock === lock;
        }, { args: [q, lock], targets: [0] });
        expect(same).toBe(true);
        await q.put({ lock, label: "again" });
        const [held] = await pool(kind).run(async (q: Queue<{ lock: Lock }>) => {
          const { lock } = await q.get();
          await lock.acquire();
          return "held";
        }, { args: [q], targets: [1] });
        expect(held).toBe("held");
        expect(await lock.locked()).toBe(true);
      });

      it("a worker's get aborted by its signal takes nothing: a later item stays in the queue", async () => {
        const q = new Queue<string>();
        const [outcome] = await pool(kind).run(async (q: Queue<string>) => {
          const ac = new AbortController();
          setTimeout(() => ac.abort(new Error("no longer needed")), 20);
          return q.get({ signal: ac.signal }).then((x) => `got ${x}`, (e: Error) => e.message);
        }, { args: [q], targets: [0] });
        expect(outcome).toBe("no longer needed");
        await q.put("later");
        expect(await q.get({ timeout: 100 })).toBe("later");
      });

      it("a task cancelled while waiting in get takes nothing: a later item stays in the queue", async () => {
        const q = new Queue<string>();
        const ac = new AbortController();
        const waiting = pool(kind).apply(async (q: Queue<string>) => {
          (globalThis as any).gotAfterCancel = await q.get();
        }, [q], { signal: ac.signal });
        waiting.catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
        ac.abort(new Error("not needed any more"));
        await expect(waiting).rejects.toThrow("not needed any more");
        await new Promise((r) => setTimeout(r, 50));
        await q.put("later");
        await new Promise((r) => setTimeout(r, 50));
        expect(await q.get({ timeout: 0 })).toBe("later");
        expect(await pool(kind).run(() => (globalThis as any).gotAfterCancel ?? "nothing")).toEqual(["nothing", "nothing"]);
      });

      it("a worker's get times out with QueueEmptyError", async () => {
        const q = new Queue();
        const [r] = await pool(kind).run((q: Queue) => q.get({ timeout: 20 }).then(() => "got", (e: Error) => `${e.name}: ${e.message}`), { args: [q], targets: [0] });
        expect(r).toMatch(/^QueueEmptyError: the queue stayed empty/);
      });
    });
  }
});

describe("JoinableQueue", () => {
  const pool = usePools();

  /** Takes jobs until null; each takes 40 ms and is marked in `done` afterwards. */
  const worker = async (q: JoinableQueue<number | null>, done: SharedArray<"u8">) => {
    for (;;) {
      const job = await q.get();
      if (job === null) {
        await q.taskDone();
        return;
      }
      await new Promise((r) => setTimeout(r, 40));
      await done.set(job, 1);
      await q.taskDone();
    }
  };

  it("taskDone() more often than put() is an error", async () => {
    const q = new JoinableQueue();
    await q.put(1);
    await q.get();
    await q.taskDone();
    await expect(q.taskDone()).rejects.toBeInstanceOf(SyncUsageError);
    expect(await q.join({ timeout: 0 })).toBe(true);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("waiting until the queue is empty misses jobs still in progress; join() waits for them all", async () => {
        const jobs = 10;
        const early = new JoinableQueue<number | null>();
        const earlyDone = new SharedArray("u8", jobs);
        const r1 = pool(kind).run(worker, { args: [early, earlyDone] });
        for (let j = 0; j < jobs; j++) await early.put(j);
        while (!(await early.empty())) await new Promise((r) => setTimeout(r, 1));
        const seenEarly = (await earlyDone.toArray()).reduce((a, b) => a + b, 0);
        expect(seenEarly).toBeLessThan(jobs);
        await early.put(null);
        await early.put(null);
        await r1;

        const q = new JoinableQueue<number | null>();
        const done = new SharedArray("u8", jobs);
        const r2 = pool(kind).run(worker, { args: [q, done] });
        for (let j = 0; j < jobs; j++) await q.put(j);
        expect(await q.join({ timeout: 10_000 })).toBe(true);
        expect((await done.toArray()).reduce((a, b) => a + b, 0)).toBe(jobs);
        await q.put(null);
        await q.put(null);
        await r2;
        expect(await q.unfinished()).toBe(0);
      });
    });
  }
});
