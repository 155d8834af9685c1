/**
 * A plain TypeScript program run the way tsx runs it (esbuild with keepNames) ships tasks whose
 * nested functions and classes call esbuild's `__name` helper; the helper lives at the top of the
 * program's file, not in the task's source, so the worker must provide it.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

const farm = new URL("../../dist/farm/index.js", import.meta.url).href;

const program = `
import { Pool } from ${JSON.stringify(farm)};
const pool = new Pool({ workers: 1, threads: process.argv[2] === "threads" });
const squares = await pool.map((x: number) => {
  function sq(y: number): number { return y * y; }
  const cube = (z: number) => z * z * z;
  return [sq(x) + cube(x), sq.name, cube.name];
}, [1, 2, 3]);
const local = await pool.apply(() => {
  class Local { v = 7; }
  return [new Local().v, Local.name];
});
console.log(JSON.stringify({ squares, local }));
await pool.join();
`;

describe("tasks from a program compiled with esbuild's keepNames (tsx)", () => {
  const code = transformSync(program, { loader: "ts", keepNames: true, format: "esm" }).code;
  const file = join(mkdtempSync(join(tmpdir(), "tspool-keepnames-")), "program.mjs");
  writeFileSync(file, code);

  it("the compiled tasks really call __name (or this test would prove nothing)", () => {
    expect(code).toMatch(/__name\(sq, "sq"\)/);
    expect(code).toMatch(/__name\(this, "Local"\)/);
  });

  for (const kind of ["processes", "threads"]) {
    it(`run in ${kind}, with their functions' and classes' names kept`, () => {
      const r = spawnSync(process.execPath, [file, kind], { encoding: "utf8", timeout: 60_000 });
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({
        squares: [[2, "sq", "cube"], [12, "sq", "cube"], [36, "sq", "cube"]],
        local: [7, "Local"],
      });
    });
  }
});
