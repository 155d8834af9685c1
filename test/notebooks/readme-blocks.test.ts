/**
 * The README's TypeScript blocks are cells a reader pastes into a notebook: run in order, as the
 * cells of one notebook, every one of them runs as written.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cellText, codeCells, readExecuted, ROOT, runCli, tempDir, text, writeNotebook } from "./helpers.js";

describe("the README's code", () => {
  it("runs as written, each ts block a cell", { timeout: 180_000 }, async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1].replace(/\n$/, ""));
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const dir = tempDir("tspool-readme-");
    const out = join(dir, "readme.executed.ipynb");
    const r = await runCli(["run", writeNotebook(dir, "readme.ipynb", blocks), "--out", out, "--timeout", "120"]);
    expect(r.code, `${r.stderr}\n${r.stdout.slice(-3000)}`).toBe(0);
    const cells = codeCells(readExecuted(out));
    expect(cells.every((c) => !(c.outputs ?? []).some((o) => o.output_type === "error"))).toBe(true);
    // The library example's promise: with the lock, no update is lost.
    const lockExample = cells.find((c) => text(c.source).includes("await hits.get()"));
    expect(lockExample && cellText(lockExample)).toContain("1000");
  });
});
