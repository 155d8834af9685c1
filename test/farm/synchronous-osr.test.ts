/**
 * Process workers compile hot loops synchronously (farm/synchronous-osr.ts): with V8's concurrent
 * on-stack replacement, a worker among others that keep every core busy sometimes never enters
 * the optimised loop and runs 4-5x slower for the rest of its life. Seen here through V8's own
 * trace of each OSR compilation (`--trace-osr`, printed by the worker to its stdout), which says
 * how it was compiled: the speed itself belongs in bench/, not in a test.
 */
import { describe, expect, it } from "vitest";
import { Pool, type OutputEvent } from "../../dist/farm/index.js";

const hotLoop = (seed: number) => {
  let h = seed | 0;
  for (let i = 0; i < 3_000_000; i++) h = (Math.imul(h, 31) + i) | 0;
  return h;
};

async function osrModes(execArgv: string[]): Promise<string[]> {
  await using pool = new Pool({ workers: 2, execArgv });
  const lines: string[] = [];
  pool.on("output", (e: OutputEvent) => { if (e.stream === "stdout") lines.push(...e.lines); });
  // run: on every worker (a map may give all its items to one)
  expect(await pool.run(hotLoop, { args: [7] })).toEqual([hotLoop(7), hotLoop(7)]);
  await pool.run(() => 0); // the trace is written outside any task: let the workers' output catch up
  return lines.flatMap((l) => /OSR - compilation started.*mode: ConcurrencyMode::(\w+)/.exec(l)?.[1] ?? []);
}

describe("process workers", () => {
  it("compile a hot loop's optimised code synchronously", async () => {
    const modes = await osrModes(["--trace-osr"]);
    expect(modes.length).toBeGreaterThanOrEqual(2); // each worker compiled the loop
    expect(new Set(modes)).toEqual(new Set(["kSynchronous"]));
  });

  it("keep concurrent OSR when the pool's execArgv asks for it", async () => {
    const modes = await osrModes(["--trace-osr", "--concurrent-osr"]);
    expect(modes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(modes)).toEqual(new Set(["kConcurrent"]));
  });
});
