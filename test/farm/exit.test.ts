/**
 * A plain Node program (not under vitest) that uses a Pool must exit by itself, with code 0, after
 * terminate(), close()+join(), async disposal, or simply leaving an idle pool; a pool with work
 * keeps it alive until the work is done. Each ending runs in its own child process.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runProcess } from "../helpers/run-process.js";

const program = fileURLToPath(new URL("./fixtures/exit-program.mjs", import.meta.url));

interface Ended { code: number | null; signal: string | null; stdout: string[]; stderr: string }

/** Runs the program; kills it if it has not ended on its own after 15 s (then signal is SIGKILL). */
async function runProgram(ending: string, kind: string): Promise<Ended> {
  const r = await runProcess(process.execPath, [program, ending, kind], 15_000);
  return { code: r.code, signal: r.signal, stdout: r.stdout.split("\n").filter((l) => l !== ""), stderr: r.stderr };
}

const expected: Record<string, string[]> = {
  "terminate": ["[2,4,6]"],
  "close-join": ["[2,4,6]"],
  "async-dispose": ["[2,4,6]"],
  "left-idle": ["[2,4,6]"],
  "not-awaited": ["[2,4,6]"],
  "sync-primitives": ["[2,false]"],
  "terminate-busy": ['["PoolClosedError","PoolClosedError"]'],
};

for (const kind of ["processes", "threads"]) {
  describe(`a plain program with a pool of ${kind}`, () => {
    it("exits with code 0 after every way of finishing", async () => {
      const endings = Object.keys(expected);
      const results: Ended[] = [];
      for (let i = 0; i < endings.length; i += 2) { // two programs (of 3 processes each) at a time: enough load for 2 cores
        results.push(...(await Promise.all(endings.slice(i, i + 2).map((e) => runProgram(e, kind)))));
      }
      const seen = Object.fromEntries(endings.map((e, i) => [e, results[i]]));
      for (const e of endings) {
        const r = seen[e]!;
        const stdout = e === "not-awaited" ? r.stdout : r.stdout.filter((l) => !l.startsWith("ended by"));
        expect({ ending: e, code: r.code, signal: r.signal, stderr: r.stderr })
          .toEqual({ ending: e, code: 0, signal: null, stderr: "" });
        expect(stdout).toEqual(e === "not-awaited" ? ["ended by not-awaited", "[2,4,6]"] : expected[e]);
        if (e !== "not-awaited") expect(r.stdout.at(-1)).toBe(`ended by ${e}`);
      }
    });
  });
}
