/**
 * What a call leaves behind once it settled: cancelling a finished applyAsync is a no-op that
 * answers at once (false, as Python's Future.cancel() for a done future) and sends the worker
 * nothing; an AbortSignal given to calls loses their listeners when they settle. Real workers;
 * the transports are the built-in ones, wrapped only to record what the pool sends.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { CancelledError, Pool, type TransportFactory } from "../../dist/farm/index.js";
import { spawnProcessWorker } from "../../dist/farm/process-transport.js";
import { spawnThreadWorker } from "../../dist/farm/thread-transport.js";

/** Resolves with the promise's value, or with "still pending" if it has not settled after ms. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | "still pending"> =>
  Promise.race([p, new Promise<"still pending">((r) => setTimeout(() => r("still pending"), ms))]);

function recording(spawn: TransportFactory, sent: string[]): TransportFactory {
  return (opts) => {
    const t = spawn(opts);
    return { ...t, send: (msg, transfer) => { sent.push(msg.t); t.send(msg, transfer); } };
  };
}

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("cancel() of a finished task resolves at once with false and sends nothing; of a pending one, true", async () => {
      const sent: string[] = [];
      await using pool = new Pool({ workers: 1, threads, transport: recording(threads ? spawnThreadWorker : spawnProcessWorker, sent) });
      const done = pool.applyAsync(() => 42);
      expect(await done).toBe(42);
      const failed = pool.applyAsync(() => { throw new Error("no"); });
      await expect(failed.get()).rejects.toThrow("no");
      sent.length = 0;
      expect(await within(done.cancel(), 10_000)).toBe(false);
      expect(await within(failed.cancel(), 10_000)).toBe(false);
      expect(sent).toEqual([]);
      expect(await done).toBe(42); // unchanged
      expect(done.successful()).toBe(true);

      const pending = pool.applyAsync(() => new Promise((r) => setTimeout(r, 20_000)));
      await new Promise((r) => setTimeout(r, 100));
      expect(await within(pending.cancel(), 10_000)).toBe(true);
      await expect(pending.get()).rejects.toBeInstanceOf(CancelledError);
      expect(await within(pending.cancel(), 10_000)).toBe(false); // already cancelled
      expect(await pool.apply(() => "still working")).toBe("still working");
    });
  });
}

describe("AbortSignal listeners", () => {
  it("are removed when each call settles, so one signal can serve many calls", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      await using pool = new Pool({ workers: 2 });
      const ac = new AbortController();
      const { signal } = ac;
      for (let i = 0; i < 15; i++) await pool.map((x: { k: number }) => x.k, [{ k: 1 }, { k: 2 }, { k: 3 }], { signal });
      for (let i = 0; i < 5; i++) await pool.starmap((a: number, b: number) => a + b, [[1, 2]], { signal });
      for (let i = 0; i < 5; i++) await pool.run(() => 1, { signal });
      for (let i = 0; i < 5; i++) await pool.applyAsync(() => 1, [], { signal });
      await pool.apply(() => { throw new Error("fails"); }, [], { signal }).catch(() => {});
      await pool.map((x: number) => x, [], { signal });
      for (let i = 0; i < 3; i++) { for await (const v of pool.imap((x: number) => x, [1, 2, 3], { signal })) void v; }
      for await (const v of pool.imapUnordered((x: number) => x, [1, 2, 3, 4, 5, 6], { signal, chunksize: 1 })) { void v; break; }
      expect(getEventListeners(signal, "abort")).toHaveLength(0);

      // while a call runs, its listener is there, and aborting still stops it
      const running = pool.map(async (x: number) => { await new Promise((r) => setTimeout(r, 10_000)); return x; }, [1, 2], { signal });
      expect(getEventListeners(signal, "abort")).toHaveLength(1);
      ac.abort(new Error("stop now"));
      await expect(running).rejects.toThrow("stop now");
      expect(await pool.map((x: number) => x + 1, [1, 2])).toEqual([2, 3]);
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => /MaxListeners/.test(w))).toEqual([]);
  });
});
