/**
 * A private Jupyter environment for frontend tests: the tspool kernelspec installed into a
 * temporary prefix, and JUPYTER_* directories of its own so nothing of the machine's user leaks in.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
export const CLI = join(ROOT, "dist", "cli.js");
export const ARTIFACTS = join(ROOT, "test-artifacts");

export interface JupyterEnv { dir: string; env: NodeJS.ProcessEnv }

export async function jupyterEnv(): Promise<JupyterEnv> {
  const dir = mkdtempSync(join(tmpdir(), "tspool-jupyter-"));
  const prefix = join(dir, "prefix");
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, "install", "--prefix", prefix], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tspool install failed: ${err}`))));
  });
  for (const d of ["config", "data", "runtime", "home"]) mkdirSync(join(dir, d), { recursive: true });
  return {
    dir,
    env: {
      ...process.env,
      JUPYTER_PATH: join(prefix, "share", "jupyter"),
      JUPYTER_CONFIG_DIR: join(dir, "config"),
      JUPYTER_DATA_DIR: join(dir, "data"),
      JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
      JUPYTER_PLATFORM_DIRS: "1",
      IPYTHONDIR: join(dir, "home", ".ipython"),
    },
  };
}

/** Processes whose command line mentions `marker` (e.g. a kernel started with a connection file under a test's own directory). */
export function processesMentioning(marker: string): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((l) => l.includes(marker))
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as import("node:net").AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Thrown from a waitFor check to give up at once (e.g. the awaited process has exited). */
export class GiveUp extends Error {}

/** Polls `check` until it returns a value (not undefined) or `ms` pass. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
}
