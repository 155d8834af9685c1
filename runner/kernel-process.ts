/**
 * The kernel child process that `tspool run` starts: `node dist/cli.js kernel -f FILE`, run by
 * the same Node binary, in the notebook's directory, with JPY_PARENT_PID naming the runner. Its own output is kept (last lines only)
 * so that a kernel that dies can be explained.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const KEEP_LINES = 60;

export interface KernelExit { code: number | null; signal: NodeJS.Signals | null }

export class KernelProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<KernelExit>;
  private exitInfo: KernelExit | null = null;
  private log: string[] = [];

  /** `command` defaults to this install's tspool kernel; other kernels are for testing the client. */
  constructor(connectionFile: string, cwd: string, command?: string[]) {
    const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
    const [exe, ...args] = command ?? [process.execPath, cli, "kernel", "-f", connectionFile];
    this.child = spawn(exe, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // The process the kernel belongs to, as Jupyter's clients tell ipykernel: a kernel may end
      // itself once that process is gone (this one killed by SIGKILL cannot shut it down).
      env: { ...process.env, JPY_PARENT_PID: String(process.pid) },
    });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      if (process.env.TSPOOL_RUN_DEBUG) process.stderr.write(`[kernel] ${text}`);
      this.log.push(...text.split("\n").filter((l) => l.length > 0));
      if (this.log.length > KEEP_LINES) this.log.splice(0, this.log.length - KEEP_LINES);
    };
    this.child.stdout!.on("data", keep);
    this.child.stderr!.on("data", keep);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.child.once("error", (err) => {
        this.log.push(`could not start the kernel: ${err.message}`);
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  get exitDescription(): string {
    const e = this.exitInfo;
    if (!e) return "still running";
    return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  }

  /** The kernel's last output lines (its log), for error reports. */
  recentOutput(): string {
    return this.log.join("\n");
  }

  /** Sends SIGINT (the kernelspec's signal interrupt mode). */
  interrupt(): void {
    if (!this.hasExited) this.child.kill("SIGINT");
  }

  /** Waits up to `graceMs` for the process to end by itself, then kills it. */
  async stop(graceMs: number): Promise<void> {
    if (this.hasExited) return;
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
    if ((await Promise.race([this.exited, timer])) === "timeout") {
      this.child.kill("SIGTERM");
      const t2 = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 2000).unref());
      if ((await Promise.race([this.exited, t2])) === "timeout") this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}
