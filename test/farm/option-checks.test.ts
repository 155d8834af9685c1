/**
 * Pool options and call arguments that are wrong in small ways get errors that say what was
 * wrong; environment variables given as undefined are removed in thread workers as in process
 * workers. Real workers where a worker is involved.
 */
import { describe, expect, it } from "vitest";
import { Pool } from "../../dist/farm/index.js";

describe("Pool options", () => {
  it("are checked up front with errors that show the bad value", () => {
    expect(() => new Pool({ workers: "2" as any })).toThrow('workers must be a positive integer, got "2" (a string)');
    expect(() => new Pool({ maxTasksPerWorker: 1.5 })).toThrow("maxTasksPerWorker must be a whole number of tasks >= 1, got 1.5");
    expect(() => new Pool({ maxTasksPerWorker: 0 })).toThrow(/maxTasksPerWorker must be a whole number/);
    expect(() => new Pool({ execArgv: "--foo" as any })).toThrow(TypeError);
    expect(() => new Pool({ execArgv: "--foo" as any })).toThrow('execArgv must be an array of strings, e.g. ["--max-old-space-size=512"], got "--foo" (a string); write ["--foo"]');
    expect(() => new Pool({ execArgv: [1] as any })).toThrow(/execArgv must be an array of strings/);
    expect(() => new Pool({ env: "A=1" as any })).toThrow(/env must be an object/);
    expect(() => new Pool({ output: "print" as any })).toThrow('output must be "auto", "inherit" or "events", got "print" (a string)');
    expect(() => new Pool({ taskTimeout: Infinity })).toThrow(/taskTimeout must be a positive number of ms, got Infinity/);
  });
});

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("env: a variable set to undefined is removed in the worker", async () => {
      process.env.TSPOOL_TEST_REMOVE_ME = "parent value";
      try {
        await using pool = new Pool({ workers: 1, threads, env: { TSPOOL_TEST_REMOVE_ME: undefined, TSPOOL_TEST_ADDED: "yes" } });
        expect(await pool.apply(() => [process.env.TSPOOL_TEST_REMOVE_ME ?? null, "TSPOOL_TEST_REMOVE_ME" in process.env, process.env.TSPOOL_TEST_ADDED]))
          .toEqual([null, false, "yes"]);
      } finally {
        delete process.env.TSPOOL_TEST_REMOVE_ME;
      }
    });

    it("arguments that cannot be cloned fail the call with one clean sentence", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const err = await pool.apply((f: unknown) => typeof f, [() => 2]).catch((e) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toMatch(/^argument 0 could not be sent to worker 0: .*could not be cloned\. Arguments, items/);
      expect(err.message).not.toContain("..");
      expect(await pool.apply(() => "fine")).toBe("fine");
    });
  });
}
