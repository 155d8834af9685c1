/**
 * The %pool magics end to end through Jupyter's reference client library: the Python script
 * test/py/pool_magics_client.py starts the installed tspool kernelspec with jupyter_client and
 * checks capture, labelled per-worker output, errors, SIGKILL mid-map, interrupt, `run` state and
 * typos, printing one line per check.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ROOT, jupyterEnv } from "../helpers/jupyter-env.js";

const SCRIPT = join(ROOT, "test", "py", "pool_magics_client.py");

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, out }));
  });
}

it("passes every jupyter_client check", async () => {
  const { dir, env } = await jupyterEnv(); // the kernelspec installed into a private prefix
  mkdirSync(join(dir, "work"));
  const r = await run("python3", [SCRIPT, join(dir, "work")], env, dir);
  const lines = r.out.split("\n").filter((l) => /^(ok|FAIL) /.test(l));
  expect(lines.filter((l) => l.startsWith("FAIL")), r.out).toEqual([]);
  expect(lines).toHaveLength(7);
  expect(r.out).toContain("summary: 7 of 7 checks passed");
  expect(r.code).toBe(0);
}, 180_000);
