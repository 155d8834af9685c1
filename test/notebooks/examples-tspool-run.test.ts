/**
 * Every example notebook runs top to bottom under `tspool run` (no Python involved in running
 * it) and shows what it promises; Python's nbformat then checks that the written file is valid.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectations } from "./expectations.js";
import { cellText, cellWith, NOTEBOOKS, readExecuted, runCli, tempDir } from "./helpers.js";

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

  // The reproducible notebook finds tspool's package.json and TypeScript the way the kernel
  // resolves imports, so it runs wherever tspool is installed, and its version check can fail.
  const REPRODUCIBLE = "04-reproducible-notebooks.ipynb";
  it("runs the reproducible notebook from a folder outside the repository", { timeout: 240_000 }, async () => {
    const dir = tempDir("tspool-elsewhere-");
    copyFileSync(join(NOTEBOOKS, REPRODUCIBLE), join(dir, REPRODUCIBLE));
    const out = join(dir, "out.ipynb");
    const r = await runCli(["run", join(dir, REPRODUCIBLE), "--out", out, "--timeout", "120"], { cwd: dir });
    expect(r.code, `tspool run failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0);
    const versions = cellText(cellWith(readExecuted(out), "const versions"));
    expect(versions).toMatch(/^typescript 5\.9\.\d+: matches ~5\.9\.\d+ \(tspool's dependencies\)$/m);
    expect(versions).not.toContain("package-lock.json"); // none above a temporary folder
  });

  it("stops the reproducible notebook when a package-lock.json pins another TypeScript", { timeout: 240_000 }, async () => {
    const dir = tempDir("tspool-elsewhere-");
    copyFileSync(join(NOTEBOOKS, REPRODUCIBLE), join(dir, REPRODUCIBLE));
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify({ packages: { "node_modules/typescript": { version: "5.4.2" } } }));
    const r = await runCli(["run", join(dir, REPRODUCIBLE), "--out", join(dir, "out.ipynb"), "--timeout", "120"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/typescript 5\.9\.\d+ is outside 5\.4\.2 \(package-lock\.json\): install the pinned versions/);
    expect(r.stderr).toContain("stopped at cell 1 of");
  });
});
