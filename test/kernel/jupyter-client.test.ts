/**
 * The kernel as Jupyter's reference client sees it: the kernelspec is installed with
 * `npx tspool install --prefix` into a temp prefix, and test/py/drive_kernel.py drives it with
 * jupyter_client's KernelManager and BlockingKernelClient.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/start-kernel.js";

let prefix: string;
let obs: Record<string, any>;
let stderr = "";

beforeAll(() => {
  prefix = mkdtempSync(join(tmpdir(), "tspool-prefix-"));
  execFileSync("npx", ["tspool", "install", "--prefix", prefix, "--name", "tspool-test"], { cwd: repoRoot, stdio: "pipe" });
  const run = spawnSync("python3", [join(repoRoot, "test", "py", "drive_kernel.py")], {
    cwd: prefix,
    encoding: "utf8",
    timeout: 120_000,
    env: {
      ...process.env,
      JUPYTER_PATH: join(prefix, "share", "jupyter"),
      TSPOOL_KERNEL_NAME: "tspool-test",
      TSPOOL_HISTORY_FILE: join(prefix, "history.jsonl"),
    },
  });
  stderr = run.stderr;
  const lastLine = run.stdout.trim().split("\n").pop() ?? "";
  try {
    obs = JSON.parse(lastLine);
  } catch {
    throw new Error(`drive_kernel.py printed no JSON (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
}, 150_000);

afterAll(() => {
  if (prefix) rmSync(prefix, { recursive: true, force: true });
});

describe("jupyter_client against the installed kernelspec", () => {
  it("ran to the end", () => {
    expect(obs.exception, stderr).toBeUndefined();
  });

  it("found a spec with absolute argv and its interrupt mode", () => {
    expect(obs.spec_argv0_absolute).toBe(true);
    expect(obs.interrupt_mode).toBe("message");
  });

  it("kernel_info", () => {
    expect(obs.kernel_info).toMatchObject({ implementation: "tspool", language: "typescript", file_extension: ".ts" });
  });

  it("execute with stdout and a typed result", () => {
    expect(obs.execute.status).toBe("ok");
    expect(obs.execute.types[0]).toBe("status");
    expect(obs.execute.types).toContain("execute_input");
    expect(obs.execute.types).toContain("execute_result");
    expect(obs.execute.stdout).toContain("hello from ts");
    expect(obs.execute.result).toBe("42");
  });

  it("errors", () => {
    expect(obs.error).toMatchObject({ status: "error", ename: "TypeError" });
    expect(obs.error.evalue).toContain("bad thing");
  });

  it("complete, inspect, is_complete", () => {
    expect(obs.complete.matches).toContain("longVariableName");
    expect(obs.complete.cursor_end).toBe(obs.complete.len);
    expect(obs.complete.cursor_start).toBe(obs.complete.len - "longVar".length);
    expect(obs.inspect.status).toBe("ok");
    expect(obs.inspect.found).toBe(true);
    expect(obs.inspect.text).toContain("number");
    expect(obs.is_complete.complete.status).toBe("complete");
    expect(obs.is_complete.incomplete.status).toBe("incomplete");
  });

  it("history and comm_info", () => {
    expect(obs.history.status).toBe("ok");
    expect(obs.history.inputs).toContain('throw new TypeError("bad thing")');
    expect(obs.comm_info).toEqual({ msg_type: "comm_info_reply", content: { status: "ok", comms: {} } });
  });

  it("stdin input", () => {
    expect(obs.stdin.status).toBe("ok");
    expect(obs.stdin.prompts).toEqual(["Your input: "]);
    expect(obs.stdin.result).toBe(String("typed by python".length));
  });

  it("interrupts a synchronous loop by message and by signal, keeping state", () => {
    for (const mode of ["message", "signal"]) {
      const r = obs[`interrupt_${mode}`];
      expect(r.status, mode).toBe("error");
      expect(r.alive, mode).toBe(true);
      expect(r.state_kept, mode).toBe("43");
    }
  });

  it("restart keeps history and starts a fresh session; shutdown ends the kernel", () => {
    expect(obs.history_after_restart).toContain('throw new TypeError("bad thing")');
    // The new session does not know the old one's declarations.
    expect(obs.after_restart.status).toBe("error");
    expect(obs.after_restart.evalue).toMatch(/answer/);
    expect(obs.alive_after_shutdown).toBe(false);
  });
});
