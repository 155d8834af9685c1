/**
 * A plain Node program (not under vitest) that uses a Pool must exit by itself, with code 0, after
 * terminate(), close()+join(), async disposal, or simply leaving an idle pool; a pool with work
 * keeps it alive until the work is done. Each ending runs in its own child process.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const program = fileURLToPath(new URL("./fixtures/exit-program.mjs", import.meta.url));

interface Ended { code: number | null; signal: string | null; stdout: string[]; stderr: string }

/** Runs the program; kills it if it has not ended on its own after 15 s (then signal is SIGKILL). */
function runProgram(ending: string, kind: string): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [program, ending, kind], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => { out += t; });
    child.stderr.setEncoding("utf8").on("data", (t: string) => { err += t; });
    const hung = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("close", (code, signal) => {
      clearTimeout(hung);
      resolve({ code, signal, stdout: out.split("\n").filter((l) => l !== ""), stderr: err });
    });
  });
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
