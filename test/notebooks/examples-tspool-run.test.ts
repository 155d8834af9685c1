/**
 * Every example notebook runs top to bottom under `tspool run` (no Python involved in running
 * it) and shows what it promises; Python's nbformat then checks that the written file is valid.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectations } from "./expectations.js";
import { NOTEBOOKS, readExecuted, runCli, tempDir } from "./helpers.js";

const notebooks = readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb") && !f.includes(".executed.")).sort();

describe("example notebooks under tspool run", () => {
  it("has an expectation for every notebook", () => {
    expect(notebooks.length).toBeGreaterThanOrEqual(4);
    expect(notebooks.filter((n) => !expectations[n])).toEqual([]);
  });

  for (const name of notebooks) {
    it(`runs ${name}`, { timeout: 240_000 }, async () => {
      const out = join(tempDir(), name);
      const r = await runCli(["run", join(NOTEBOOKS, name), "--out", out, "--timeout", "120"]);
      expect(r.code, `tspool run failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0);
      expect(r.stdout).toMatch(/worker 0\b/); // per-worker labels reach the terminal too
      expectations[name](readExecuted(out));
      // The written file is a valid notebook by Jupyter's own schema (nbformat, as Jupyter tools read it).
      execFileSync("python3", ["-c", "import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", out]);
    });
  }
});
