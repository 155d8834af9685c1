import { describe, expect, it } from "vitest";
import { BoundedSemaphore, Semaphore, SharedArray, SyncUsageError } from "../../dist/farm/index.js";
import { kinds, usePools } from "./pools.js";

/**
 * Runs `tasks` concurrent jobs that each hold the resource for 15 ms, recording in `active[1]`
 * the most jobs ever inside at once (active[0] = inside right now).
 */
const busy = async (sem: Semaphore | null, active: SharedArray<"i32">, tasks: number) => {
  const one = async () => {
    if (sem) await sem.acquire();
    const now = await active.add(0, 1);
    for (;;) {
      const seen = await active.get(1);
      if (now <= seen || (await active.compareExchange(1, seen, now)) === seen) break;
    }
    await new Promise((r) => setTimeout(r, 15));
    await active.add(0, -1);
    if (sem) await sem.release();
  };
  await Promise.all(Array.from({ length: tasks }, one));
  return tasks;
};

describe("Semaphore", () => {
  const pool = usePools();

  it("counts down, refuses at zero with a timeout, and counts up on release", async () => {
    const s = new Semaphore(2);
    expect(await s.acquire()).toBe(true);
    expect(await s.acquire()).toBe(true);
    expect(await s.acquire({ timeout: 20 })).toBe(false);
    expect(await s.value()).toBe(0);
    await s.release(2);
    expect(await s.value()).toBe(2);
    expect(() => new Semaphore(-1)).toThrow(/initial value must be an integer from 0/);
  });

  for (const kind of kinds) {
    describe(kind.name, () => {
      it("without a semaphore more than 2 jobs are inside at once; with Semaphore(2) never", async () => {
        const free = new SharedArray("i32", 2);
        await Promise.all([pool(kind).run(busy, { args: [null, free, 3] }), busy(null, free, 3)]);
        expect(await free.get(1)).toBeGreaterThan(2);

        const guarded = new SharedArray("i32", 2);
        const sem = new Semaphore(2);
        await Promise.all([pool(kind).run(busy, { args: [sem, guarded, 3] }), busy(sem, guarded, 3)]);
        expect(await guarded.get(1)).toBeLessThanOrEqual(2);
        expect(await guarded.get(0)).toBe(0);
        expect(await sem.value()).toBe(2);
      });

      it("a release-twice bug silently widens a Semaphore; a BoundedSemaphore refuses it", async () => {
        const buggy = async (sem: Semaphore) => {
          await sem.acquire();
          await sem.release();
          return sem.release().then(() => "released twice", (e: Error) => e.name);
        };
        const loose = new Semaphore(2);
        expect(await pool(kind).run(buggy, { args: [loose], targets: [0] })).toEqual(["released twice"]);
        const widened = new SharedArray("i32", 2);
        await busy(loose, widened, 3);
        expect(await widened.get(1)).toBe(3);

        const bounded = new BoundedSemaphore(2);
        expect(await pool(kind).run(buggy, { args: [bounded], targets: [0] })).toEqual(["SyncUsageError"]);
        const kept = new SharedArray("i32", 2);
        await busy(bounded, kept, 3);
        expect(await kept.get(1)).toBe(2);
        await expect(bounded.release()).rejects.toBeInstanceOf(SyncUsageError);
        await expect(bounded.release()).rejects.toThrow(/released too many times: its value would become 3, above its initial value 2/);
      });
    });
  }
});
