/**
 * Lines without their newline yet: a long line arriving in many pieces is put together in linear
 * time (only the new text is searched for a newline, never the whole line held so far), and a
 * partial line written outside any job (a timer after its task returned) does not wait for
 * unrelated output: it goes out at the next job's end or within a short delay. Real process and
 * thread workers.
 */
import { describe, expect, it } from "vitest";
import { Pool, type OutputEvent } from "../../dist/farm/index.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("a 20 MB line written in pieces arrives whole, without the parent rescanning what it holds of it", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const lines: string[] = [];
      pool.on("output", (e) => lines.push(...e.lines));
      await pool.run(() => 0);
      // the longest string the parent searches for a newline while the line comes in
      const lastIndexOf = String.prototype.lastIndexOf;
      let longestSearched = 0;
      String.prototype.lastIndexOf = function (this: string, ...args: [string, number?]) {
        if (this.length > longestSearched) longestSearched = this.length;
        return lastIndexOf.apply(this, args);
      };
      let written: number;
      try {
        written = await pool.apply(() => {
          const piece = "x".repeat(100_000);
          for (let i = 0; i < 200; i++) process.stdout.write(i % 50 === 49 ? piece.slice(1) + "\r" : piece);
          process.stdout.write("\n");
          return 200 * 100_000;
        });
      } finally {
        String.prototype.lastIndexOf = lastIndexOf;
      }
      expect(lines.map((l) => l.length)).toEqual([written]);
      expect(lines[0].split("\r").map((part) => part.length)).toEqual([4_999_999, 4_999_999, 4_999_999, 4_999_999, 0]);
      // pieces are searched (a read of the pipe or ring at most), not the 20 MB held so far
      expect(longestSearched).toBeLessThan(4_000_000);
    });

    it("an unterminated line a timer writes after its task ended arrives on its own, soon", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const late = new Promise<OutputEvent>((resolve) => pool.on("output", (e) => { if (e.text.includes("late partial")) resolve(e); }));
      expect(await pool.apply(() => { setTimeout(() => process.stdout.write("late partial"), 20); return 1; })).toBe(1);
      // nothing else is written: before, the line waited for the next output on that stream
      const e = await Promise.race([late, sleep(10_000).then(() => null)]);
      expect(e).not.toBeNull();
      expect(e!.lines).toEqual(["late partial"]);
      expect(e!.job).toBeNull();
    });

    it("... and at the latest with the result of the next job", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const events: string[] = [];
      pool.on("output", (e) => events.push(...e.lines));
      // written right after the task's result went out, before the next job reaches the worker
      await pool.apply(() => { setImmediate(() => process.stdout.write("between jobs")); return 1; });
      await pool.apply(() => 2);
      expect(events).toEqual(["between jobs"]);
    });
  });
}
