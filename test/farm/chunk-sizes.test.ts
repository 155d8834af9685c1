/**
 * How a map cuts its items into chunks (farm/chunking.ts): CPython's size until a chunk has been
 * timed, then guided sizes — a share of what is left, within MIN_CHUNK_MS..MAX_CHUNK_MS of work —
 * so that slow items end in single-item chunks (the workers finish together) while fast items
 * keep few, large messages.
 */
import { describe, expect, it } from "vitest";
import { Pool, initialChunksize, type TaskEvent } from "../../dist/farm/index.js";
import { guidedChunksize, MAX_CHUNK_MS, MIN_CHUNK_MS } from "../../dist/farm/chunking.js";

describe("guidedChunksize", () => {
  it("gives each chunk a share of what is left, so chunks shrink towards the end, down to one item", () => {
    // 6.6 ms items, 2 workers, CPython's first size for 160 items is 20
    const sizes = [120, 80, 40, 12, 5, 3, 1].map((left) => guidedChunksize(6.6, 20, left, 2));
    expect(sizes).toEqual([15, 15, 10, 3, 2, 1, 1]); // 15 = the most that fits in MAX_CHUNK_MS
    expect(15 * 6.6).toBeLessThanOrEqual(MAX_CHUNK_MS);
  });

  it("never cuts below MIN_CHUNK_MS of work, nor above the initial size", () => {
    expect(guidedChunksize(0.5, 1000, 4, 2)).toBe(Math.ceil(MIN_CHUNK_MS / 0.5));
    // tiny items (0.1 µs): large chunks all along, a share of what is left but at least 5 ms of work
    expect(guidedChunksize(0.0001, 250_000, 2_000_000, 2)).toBe(250_000);
    expect(guidedChunksize(0.0001, 250_000, 300_000, 2)).toBe(75_000);
    expect(guidedChunksize(0.0001, 250_000, 10, 2)).toBe(Math.ceil(MIN_CHUNK_MS / 0.0001));
    expect(guidedChunksize(2000, 50, 1000, 2)).toBe(1); // an item slower than MAX_CHUNK_MS: one at a time
    expect(guidedChunksize(Number.NaN, 7, 100, 2)).toBe(7); // nothing timed yet
  });
});

describe("a map of slow items on real workers", () => {
  it("starts with CPython's chunk size and ends in single items, in fewer chunks than items", async () => {
    await using pool = new Pool({ workers: 2 });
    const starts: [number, number][] = [];
    pool.on("task", (e: TaskEvent) => { if (e.phase === "start" && e.range) starts.push(e.range); });
    const n = 60;
    const out = await pool.map((x: number) => { const end = Date.now() + 8; while (Date.now() < end); return x * 2; }, Array.from({ length: n }, (_, i) => i));
    expect(out).toEqual(Array.from({ length: n }, (_, i) => i * 2));
    const sizes = [...starts].sort((a, b) => a[0] - b[0]).map(([a, b]) => b - a);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
    expect(sizes[0]).toBe(initialChunksize(n, 2));
    expect(sizes.slice(-2)).toEqual([1, 1]);
    expect(sizes.length).toBeLessThan(n / 2);
  });
});
