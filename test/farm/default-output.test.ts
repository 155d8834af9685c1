/**
 * Where worker output goes in a plain program: by default ("auto") a pool nobody listens to
 * writes its workers' lines to the program's own stdout/stderr, as Python's Pool shows prints;
 * a listener of "output" events takes them instead (nothing printed twice, also when a `once`
 * listener takes the only line and is gone when it would be printed); "inherit" prints
 * and emits; "events" only emits. A Process keeps its own setting ("ignore" prints nothing).
 * Each case runs in its own child process, with real workers.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runProcess } from "../helpers/run-process.js";

const program = fileURLToPath(new URL("./fixtures/output-program.mjs", import.meta.url));

interface Ended { code: number | null; stdout: string[]; stderr: string[] }

async function runProgram(which: string, kind: string): Promise<Ended> {
  const r = await runProcess(process.execPath, [program, which, kind], 20_000);
  const lines = (s: string) => s.split("\n").filter((l) => l !== "");
  return { code: r.code, stdout: lines(r.stdout), stderr: lines(r.stderr) };
}

const events = 'events ["err from worker","out from worker"]';
const expected: Record<string, { stdout: string[]; stderr: string[] }> = {
  "no-listener": { stdout: ["out from worker", "done"], stderr: ["err from worker"] },
  "listener": { stdout: [events, "done"], stderr: [] },
  "inherit-and-listener": { stdout: ["out from worker", events, "done"], stderr: ["err from worker"] },
  "events-only": { stdout: ["done"], stderr: [] },
  "once-listener": { stdout: ['events ["only line"]', "done"], stderr: [] },
  "process-ignore": { stdout: ["done"], stderr: [] },
  "process-inherit": { stdout: ["out from worker", "done"], stderr: ["err from worker"] },
};

for (const kind of ["processes", "threads"]) {
  describe(`a plain program with a pool of ${kind}`, () => {
    it("shows worker prints unless someone listens for them, as the output option says", async () => {
      const cases = Object.keys(expected);
      const results: Ended[] = [];
      for (let i = 0; i < cases.length; i += 2) {
        results.push(...(await Promise.all(cases.slice(i, i + 2).map((c) => runProgram(c, kind)))));
      }
      cases.forEach((c, i) => {
        expect({ case: c, code: results[i].code, stdout: results[i].stdout, stderr: results[i].stderr })
          .toEqual({ case: c, code: 0, ...expected[c] });
      });
    });
  });
}
