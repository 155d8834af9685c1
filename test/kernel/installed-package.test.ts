/**
 * tspool as a user gets it from npm: the repository packed with `npm pack` and the tarball
 * installed into a fresh project, where npm hoists tspool's dependencies (@types/node among them)
 * to the project's own node_modules. That copy's `tspool run` type-checks cells and %%pool map
 * bodies that use Node's globals and modules, and its `tspool install` writes a kernelspec that
 * jupyter_client starts and runs cells with.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cellText, codeCells, readExecuted, tempDir, writeNotebook } from "../notebooks/helpers.js";
import { repoRoot } from "../helpers/start-kernel.js";

const NPM_TIMEOUT_MS = 240_000;
let scratch: string;
let project: string;
let installedCli: string;
let tarball: string;

/** A fresh project at `dir` with the packed tspool installed into it; returns its `tspool` command. */
function installInto(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "uses-tspool", version: "1.0.0", private: true }));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: dir, stdio: "pipe", timeout: NPM_TIMEOUT_MS });
  return join(dir, "node_modules", ".bin", "tspool");
}

beforeAll(() => {
  scratch = tempDir("tspool-packed-");
  // The build the other tests run (dist/), packed as it would be published.
  const packed = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", scratch], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: NPM_TIMEOUT_MS });
  tarball = join(scratch, packed.trim().split("\n").pop()!);
  project = join(scratch, "project");
  installedCli = installInto(project);
}, NPM_TIMEOUT_MS * 2);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("tspool installed from its npm package into a project", () => {
  it("has its dependencies hoisted (the layout this test is about)", () => {
    expect(existsSync(join(project, "node_modules", "@types", "node", "package.json"))).toBe(true);
    expect(existsSync(join(project, "node_modules", "tspool", "node_modules", "@types"))).toBe(false);
  });

  it("runs a notebook whose cells and %%pool map bodies use console, process and node: modules", () => {
    writeFileSync(join(project, "data.txt"), "three words here\n");
    const nb = writeNotebook(project, "uses-node.ipynb", [
      'import { readFileSync } from "node:fs";\nconst words: string[] = readFileSync("data.txt", "utf8").trim().split(" ");\nconsole.log("words:", words.length);\nconsole.error("pid is a", typeof process.pid);',
      "%pool start 2",
      '%%pool map words\n(w: string) => {\n  console.log("on a worker:", typeof process.pid);\n  return w.toUpperCase();\n}',
    ]);
    const out = join(project, "uses-node.out.ipynb");
    const r = spawnSync(installedCli, ["run", nb, "--out", out], { cwd: project, encoding: "utf8", timeout: 180_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const [read, , mapped] = codeCells(readExecuted(out));
    expect(cellText(read)).toContain("words: 3");
    expect(cellText(read)).toContain("pid is a number");
    expect(cellText(mapped)).toContain("on a worker: number");
    expect(cellText(mapped)).toContain("'THREE', 'WORDS', 'HERE'");
  }, 200_000);

  it("`tspool install` writes a kernelspec running that copy, which jupyter_client starts", () => {
    const prefix = join(scratch, "prefix");
    const installed = spawnSync(installedCli, ["install", "--prefix", prefix, "--name", "tspool-packed"], { cwd: project, encoding: "utf8" });
    expect(installed.status, installed.stderr).toBe(0);
    const spec = JSON.parse(readFileSync(join(prefix, "share", "jupyter", "kernels", "tspool-packed", "kernel.json"), "utf8"));
    expect(spec.argv[1]).toBe(realpathSync(join(project, "node_modules", "tspool", "dist", "cli.js")));
    const notebookDir = tempDir("tspool-packed-nb-");
    const drive = spawnSync("python3", ["-c", DRIVE], {
      cwd: notebookDir,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter"), TSPOOL_HISTORY_FILE: join(scratch, "history.jsonl") },
    });
    rmSync(notebookDir, { recursive: true, force: true });
    expect(drive.status, drive.stderr).toBe(0);
    const seen = JSON.parse(drive.stdout.trim().split("\n").pop()!);
    expect(seen.status).toBe("ok");
    expect(seen.stdout).toBe("linux true\n");
    expect(installed.stderr).toBe("");
  }, 150_000);

  it("`tspool install` from npx's cache (`npx --package tspool tspool install`) warns that the kernelspec points into a cache", () => {
    // npx installs a package into ~/.npm/_npx/<hash>/ as npm installs into a project.
    const cli = installInto(join(scratch, "_npx", "0123456789abcdef"));
    const r = spawnSync(cli, ["install", "--prefix", join(scratch, "npx-prefix")], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: this kernelspec runs tspool from npm's npx cache, which npm may clean .* install tspool first/);
  }, NPM_TIMEOUT_MS);
});

/** Starts the kernelspec with jupyter_client, runs one cell, prints its status and stdout as JSON. */
const DRIVE = `
import json
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="tspool-packed")
km.start_kernel()
kc = km.client()
kc.start_channels()
try:
    kc.wait_for_ready(timeout=60)
    out = []
    reply = kc.execute_interactive(
        'import { existsSync } from "node:fs";\\nconsole.log(process.platform, existsSync("."))',
        timeout=60,
        output_hook=lambda m: out.append(m["content"]["text"]) if m["msg_type"] == "stream" else None,
    )
    print(json.dumps({"status": reply["content"]["status"], "stdout": "".join(out)}))
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=False)
`;
