/**
 * Every example notebook runs top to bottom under `tspool run` (no Python involved in running
 * it) and shows what it promises; Python's nbformat then checks that the written file is valid.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectations } from "./expectations.js";
import { cellText, cellWith, NOTEBOOKS, readExecuted, ROOT, runCli, tempDir } from "./helpers.js";

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

  // The reproducible notebook finds tspool's package.json the way the kernel resolves imports, and
  // TypeScript from there (the compiler the kernel uses), so it runs wherever tspool is installed,
  // and its version check can fail.
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

  /**
   * A project laid out as npm installs one that has its own, older TypeScript besides tspool: the
   * project's in node_modules/typescript, tspool's own nested under node_modules/tspool (tspool's
   * package.json and dist are this repository's; of its TypeScript only the package.json is needed).
   */
  function projectWithItsOwnTypescript(lockedForTspool: string): string {
    const dir = tempDir("tspool-project-");
    const tspoolDir = join(dir, "node_modules", "tspool");
    const nestedTypescript = join(tspoolDir, "node_modules", "typescript");
    const projectTypescript = join(dir, "node_modules", "typescript");
    mkdirSync(nestedTypescript, { recursive: true });
    mkdirSync(projectTypescript, { recursive: true });
    copyFileSync(join(ROOT, "package.json"), join(tspoolDir, "package.json"));
    symlinkSync(join(ROOT, "dist"), join(tspoolDir, "dist"));
    copyFileSync(join(ROOT, "node_modules", "typescript", "package.json"), join(nestedTypescript, "package.json"));
    writeFileSync(join(projectTypescript, "package.json"), JSON.stringify({ name: "typescript", version: "5.4.5" }));
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify({
      lockfileVersion: 3,
      packages: {
        "node_modules/tspool": { version: "0.1.0" },
        "node_modules/tspool/node_modules/typescript": { version: lockedForTspool },
        "node_modules/typescript": { version: "5.4.5" },
      },
    }));
    copyFileSync(join(NOTEBOOKS, REPRODUCIBLE), join(dir, REPRODUCIBLE));
    return dir;
  }
  const typescriptVersion = JSON.parse(readFileSync(join(ROOT, "node_modules", "typescript", "package.json"), "utf8")).version as string;

  it("checks the TypeScript that tspool compiles with, not a project's own", { timeout: 240_000 }, async () => {
    const dir = projectWithItsOwnTypescript(typescriptVersion);
    const out = join(dir, "out.ipynb");
    const r = await runCli(["run", join(dir, REPRODUCIBLE), "--out", out, "--timeout", "120"], { cwd: dir });
    expect(r.code, `tspool run failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0);
    const versions = cellText(cellWith(readExecuted(out), "const versions"));
    expect(versions).toContain(`typescript: '${typescriptVersion}'`);
    expect(versions).toContain(`typescript ${typescriptVersion}: matches ${typescriptVersion} (package-lock.json: node_modules/tspool/node_modules/typescript)`);
    expect(versions).not.toContain("5.4.5");
  });

  it("stops the reproducible notebook when the lock pins another TypeScript for tspool, and says how to fix it", { timeout: 240_000 }, async () => {
    const dir = projectWithItsOwnTypescript("5.4.2");
    const r = await runCli(["run", join(dir, REPRODUCIBLE), "--out", join(dir, "out.ipynb"), "--timeout", "120"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `typescript ${typescriptVersion} is outside 5.4.2 (package-lock.json: node_modules/tspool/node_modules/typescript): run npm ci in ${dir}`,
    );
    expect(r.stderr).not.toContain("tspool's repository");
    expect(r.stderr).toContain("stopped at cell 1 of");
  });
});
