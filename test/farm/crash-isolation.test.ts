/**
 * A map chunk of several items that kills its worker: the pool cannot tell which item did it, so
 * it runs the chunk's items again one per job. The item that kills workers is named in its
 * WorkerCrashedError, the other items still give results, and the retry count bounds the number
 * of worker deaths. Real process and thread workers.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Pool, WorkerCrashedError, type WorkerEvent } from "../../dist/farm/index.js";

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("the error names the item that killed the worker, and the items before it still come out", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const got: number[] = [];
      let err: any = null;
      try {
        for await (const v of pool.imap((x: number) => { if (x === 13) process.exit(9); return x * 2; },
          Array.from({ length: 20 }, (_, i) => i), { chunksize: 5 })) got.push(v);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.index).toBe(13);
      expect(err.range).toEqual([13, 14]);
      expect(err.exitCode).toBe(9);
      expect(err.message).toMatch(/item 13\) exited with code 9/);
      // it ran twice: inside its chunk, then alone
      expect(err.attempts).toBe(2);
      // 10, 11 and 12 shared the crashed chunk with 13, and still gave their results
      expect(got).toEqual(Array.from({ length: 13 }, (_, i) => i * 2));
      expect(await pool.map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
    });

    it("with retries, only the culprit is retried, and it fails after retries + 1 worker deaths", async () => {
      await using pool = new Pool({ workers: 2, threads, retries: 1 });
      await pool.run(() => 0);
      const exits: WorkerEvent[] = [];
      pool.on("worker", (e) => { if (e.type === "exit") exits.push(e); });
      const err = await pool.map((x: number) => { if (x === 13) process.exit(9); return x; },
        Array.from({ length: 20 }, (_, i) => i), { chunksize: 5 }).catch((e) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.index).toBe(13);
      expect(err.attempts).toBe(2);
      // the chunk's crash, then item 13 alone: no whole-chunk retry
      expect(exits.filter((e) => !e.expected)).toHaveLength(2);
    });

    it("a chunk whose worker died once (a flaky crash) completes with every result, even without retries", async () => {
      await using pool = new Pool({ workers: 2, threads });
      const marker = join(mkdtempSync(join(tmpdir(), "tspool-isolate-")), "died-once");
      const dieOnce = (x: number, file: string) => {
        const fs = process.getBuiltinModule("node:fs") as typeof import("node:fs");
        if (x === 7 && !fs.existsSync(file)) { fs.writeFileSync(file, "x"); process.exit(9); }
        return x * 10;
      };
      const items = Array.from({ length: 24 }, (_, i) => [i, marker] as [number, string]);
      expect(await pool.starmap(dieOnce, items, { chunksize: 6 })).toEqual(items.map(([x]) => x * 10));
    });

    it("items that all kill their workers end the map after a bounded number of deaths", async () => {
      await using pool = new Pool({ workers: 2, threads, retries: 2 });
      await pool.run(() => 0);
      const exits: WorkerEvent[] = [];
      pool.on("worker", (e) => { if (e.type === "exit" && !e.expected) exits.push(e); });
      const err = await pool.map((x: number) => process.exit(20 + x), Array.from({ length: 8 }, (_, i) => i), { chunksize: 4 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect(err.attempts).toBe(3);
      expect(err.exitCode).toBe(20 + err.index);
      expect(err.range).toEqual([err.index, err.index + 1]);
      // at most: the two chunks once each, then every item alone up to its remaining 2 tries
      expect(exits.length).toBeLessThanOrEqual(2 + 8 * 2);
      expect(await pool.map((x: number) => x * 3, [1, 2])).toEqual([3, 6]);
    });
  });
}
