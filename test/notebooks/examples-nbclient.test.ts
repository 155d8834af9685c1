/**
 * Every example notebook runs under Python's nbclient, Jupyter's reference executor, with the
 * tspool kernelspec installed into a temporary prefix.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectations } from "./expectations.js";
import { NOTEBOOKS, ROOT, readExecuted, runCli, tempDir } from "./helpers.js";
import { runProcess } from "../helpers/run-process.js";

const notebooks = readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb") && !f.includes(".executed.")).sort();
const SCRIPT = join(ROOT, "test", "notebooks", "execute_with_nbclient.py");
let jupyterPath = "";

function python(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return runProcess("python3", args, 230_000, { env });
}

beforeAll(async () => {
  const prefix = tempDir("tspool-prefix-");
  const r = await runCli(["install", "--prefix", prefix]);
  expect(r.code, r.stderr).toBe(0);
  jupyterPath = join(prefix, "share", "jupyter");
  expect(existsSync(join(jupyterPath, "kernels", "tspool", "kernel.json"))).toBe(true);
});

describe("example notebooks under nbclient", () => {
  for (const name of notebooks) {
    it(`executes ${name}`, { timeout: 240_000 }, async () => {
      const out = join(tempDir(), name);
      const r = await python([SCRIPT, join(NOTEBOOKS, name), out, "--timeout", "120"], { JUPYTER_PATH: jupyterPath });
      expect(r.code, r.output.slice(-4000)).toBe(0);
      expectations[name](readExecuted(out));
    });
  }
});
