/**
 * Tens of thousands of calls queued at once (Promise.all over apply): the scheduler must not walk
 * the whole queue every time a worker frees up or a call is added (it did: 20,000 applies took
 * 22 s, quadratic). The time-out only guards against that; speed itself belongs in bench/.
 * Real process workers.
 */
import { describe, expect, it } from "vitest";
import { Pool } from "../../dist/farm/index.js";

describe("a long queue of single calls", () => {
  // about 5 s on an idle machine (minutes when quadratic)
  it("50,000 queued applies all run, each with its own result", { timeout: 60_000 }, async () => {
    await using pool = new Pool({ workers: 2 });
    await pool.run(() => 0);
    const n = 50_000;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => pool.apply((x: number) => x * 3, [i])));
    expect(results.length).toBe(n);
    expect(results.every((v, i) => v === i * 3)).toBe(true);
    expect(pool.status().queuedJobs).toBe(0);
  });
});
