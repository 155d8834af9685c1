/**
 * `tspool install` writes a kernelspec that works from any directory, and rejects bad options
 * with a message that says what to do.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cliPath } from "../helpers/start-kernel.js";

const scratch = mkdtempSync(join(tmpdir(), "tspool-install-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tspool(args: string[], env: Record<string, string> = {}) {
  // Run from an unrelated directory: nothing may depend on the cwd.
  return spawnSync(process.execPath, [cliPath, ...args], { cwd: tmpdir(), encoding: "utf8", env: { ...process.env, ...env } });
}

describe("tspool install", () => {
  it("--prefix DIR writes DIR/share/jupyter/kernels/tspool/kernel.json with absolute paths", () => {
    const prefix = join(scratch, "prefix");
    const r = tspool(["install", "--prefix", prefix]);
    expect(r.status, r.stderr).toBe(0);
    const file = join(prefix, "share", "jupyter", "kernels", "tspool", "kernel.json");
    expect(r.stdout).toContain(join(prefix, "share", "jupyter", "kernels", "tspool"));
    const spec = JSON.parse(readFileSync(file, "utf8"));
    expect(spec.argv).toEqual([process.execPath, cliPath, "kernel", "-f", "{connection_file}"]);
    expect(isAbsolute(spec.argv[0]) && isAbsolute(spec.argv[1])).toBe(true);
    expect(existsSync(spec.argv[1])).toBe(true);
    expect(spec.language).toBe("typescript");
    expect(["message", "signal"]).toContain(spec.interrupt_mode);
    expect(spec.display_name).toBeTruthy();
    expect(readFileSync(join(prefix, "share", "jupyter", "kernels", "tspool", "logo-svg.svg"), "utf8")).toMatch(/^<svg/);
  });

  it("--name and --display-name (also as --opt=value)", () => {
    const prefix = join(scratch, "named");
    const r = tspool(["install", "--prefix", prefix, "--name", "ts-alt", "--display-name=TS Alt"]);
    expect(r.status, r.stderr).toBe(0);
    const spec = JSON.parse(readFileSync(join(prefix, "share", "jupyter", "kernels", "ts-alt", "kernel.json"), "utf8"));
    expect(spec.display_name).toBe("TS Alt");
  });

  it("--user (the default) writes into the Jupyter data dir", () => {
    const data = join(scratch, "data");
    for (const args of [["install", "--user"], ["install", "--name", "other"]]) {
      const r = tspool(args, { JUPYTER_DATA_DIR: data });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(existsSync(join(data, "kernels", "tspool", "kernel.json"))).toBe(true);
    expect(existsSync(join(data, "kernels", "other", "kernel.json"))).toBe(true);
  });

  it("--sys-prefix writes under the sys.prefix of the python3 on PATH (a venv here)", () => {
    const venv = join(scratch, "venv");
    execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
    const r = tspool(["install", "--sys-prefix"], { PATH: `${join(venv, "bin")}:${process.env.PATH}` });
    expect(r.status, r.stderr).toBe(0);
    const spec = JSON.parse(readFileSync(join(venv, "share", "jupyter", "kernels", "tspool", "kernel.json"), "utf8"));
    expect(spec.argv[1]).toBe(cliPath);
  });

  it("explains bad options and exits non-zero without writing anything", () => {
    const cases: [string[], RegExp][] = [
      [["install", "--prefix"], /--prefix needs a value/],
      [["install", "--user", "--prefix", join(scratch, "x")], /only one of --user, --sys-prefix, --prefix/],
      [["install", "--bogus"], /unknown option --bogus/],
      [["install", "--prefix", join(scratch, "bad"), "--name", "has space"], /Invalid kernel name/],
      [["frobnicate"], /unknown command "frobnicate"/],
      [["kernel"], /kernel needs -f CONNECTION_FILE/],
      [["kernel", "-f", join(scratch, "missing.json")], /Cannot read connection file/],
    ];
    for (const [args, message] of cases) {
      const r = tspool(args);
      expect(r.status, args.join(" ")).not.toBe(0);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }
    expect(existsSync(join(scratch, "x"))).toBe(false);
    expect(existsSync(join(scratch, "bad"))).toBe(false);
  });
});
