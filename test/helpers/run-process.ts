/** Runs a child process to its end, for tests that look at what a program printed and how it exited. */
import { spawn } from "node:child_process";

export interface Ran {
  code: number | null;
  /** SIGKILL when it ran past the limit. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, in the order they came. */
  output: string;
}

/** Runs `command args` (environment: this process's plus `opts.env`), killing it with SIGKILL if it has not ended after `limitMs`. */
export function runProcess(command: string, args: string[], limitMs: number, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => { stdout += t; output += t; });
    child.stderr.setEncoding("utf8").on("data", (t: string) => { stderr += t; output += t; });
    const limit = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr, output });
    });
  });
}
