/**
 * A task that imports a module makes Node warn, once per worker, that tspool's way of giving task
 * scripts a module loader (vm.USE_MAIN_CONTEXT_DEFAULT_LOADER) is experimental. That is noise
 * about tspool's plumbing, repeated by every worker: workers drop exactly that warning and pass
 * every other one on.
 */
import { describe, expect, it } from "vitest";
import { Pool, type OutputEvent } from "../../dist/farm/index.js";

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("drop the experimental-loader warning and keep all others", async () => {
      await using pool = new Pool({ workers: 2, threads });
      const events: OutputEvent[] = [];
      pool.on("output", (e) => events.push(e));
      const platforms = await pool.run({
        fn: `async () => {
          const os = await import("node:os");
          process.emitWarning("a warning of the task's own");
          process.emitWarning("feature X is an experimental feature", "ExperimentalWarning");
          return os.platform();
        }`,
      });
      expect(platforms).toEqual([process.platform, process.platform]);
      await pool.run(() => 0); // warnings are printed on a later tick
      const stderr = events.filter((e) => e.stream === "stderr").flatMap((e) => e.lines).join("\n");
      expect(stderr).not.toMatch(/USE_MAIN_CONTEXT_DEFAULT_LOADER/);
      expect(stderr.match(/Warning: a warning of the task's own/g)).toHaveLength(2);
      expect(stderr.match(/ExperimentalWarning: feature X is an experimental feature/g)).toHaveLength(2);
    });
  });
}
