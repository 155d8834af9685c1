/**
 * Starts the real kernel (`node dist/cli.js kernel -f FILE`) on free ports with a random key and
 * connects a KernelClient to it, once iopub is known to be subscribed.
 *
 *   const k = await startKernel({ historyFile });
 *   await k.client.execute("let x = 1");
 *   await k.stop();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConnectionInfo } from "../../kernel/wire/connection.js";
import { KernelClient } from "./kernel-client.js";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const cliPath = join(repoRoot, "dist", "cli.js");

export interface StartKernelOptions {
  /** The notebook directory (kernel cwd). Default: a fresh temp dir. */
  cwd?: string;
  /** Extra environment variables for the kernel. */
  env?: Record<string, string | undefined>;
  /** History file (default: a fresh one in a temp dir, so tests never touch the user's). */
  historyFile?: string;
  /** Reuse a connection (e.g. to restart a kernel on the same ports). */
  connection?: ConnectionInfo;
  /** Time to wait for the kernel to answer kernel_info (ms). */
  readyTimeoutMs?: number;
}

export interface RunningKernel {
  client: KernelClient;
  proc: ChildProcess;
  connection: ConnectionInfo;
  connectionFile: string;
  cwd: string;
  historyFile: string;
  /** Everything the kernel process wrote to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves when the kernel process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Shuts the kernel down (shutdown_request, then SIGKILL if needed) and closes the client. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

export async function freeConnection(): Promise<ConnectionInfo> {
  const ports: number[] = [];
  while (ports.length < 5) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: ports[0],
    control_port: ports[1],
    iopub_port: ports[2],
    stdin_port: ports[3],
    hb_port: ports[4],
    key: randomBytes(16).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: "tspool",
  };
}

export async function startKernel(opts: StartKernelOptions = {}): Promise<RunningKernel> {
  const scratch = mkdtempSync(join(tmpdir(), "tspool-kernel-test-"));
  const cwd = opts.cwd ?? scratch;
  const historyFile = opts.historyFile ?? join(scratch, "history.jsonl");
  const connection = opts.connection ?? (await freeConnection());
  const connectionFile = join(scratch, "connection.json");
  writeFileSync(connectionFile, JSON.stringify(connection));
  const proc = spawn(process.execPath, [cliPath, "kernel", "-f", connectionFile], {
    cwd,
    env: { ...process.env, TSPOOL_HISTORY_FILE: historyFile, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  proc.stderr!.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  proc.stdout!.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once("exit", (code, signal) => res({ code, signal })),
  );
  const client = new KernelClient(connection);
  client.connect();

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      try {
        await client.request("control", "shutdown_request", { restart: false }, 5000);
      } catch {
        /* not answering: killed below */
      }
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    }
    client.close();
    rmSync(scratch, { recursive: true, force: true });
  };

  // zeromq PUB/SUB "slow joiner": retry kernel_info until its status idle arrives on iopub.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  let ready = false;
  while (!ready) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      client.close();
      throw new Error(`the kernel exited while starting (code ${proc.exitCode}, signal ${proc.signalCode}):\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the kernel did not become ready in time; its stderr:\n${stderr}`);
    }
    try {
      await client.request("shell", "kernel_info_request", {}, 250);
      ready = true;
    } catch {
      /* retry */
    }
  }
  return {
    client,
    proc,
    connection,
    connectionFile,
    cwd,
    historyFile,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    stop,
  };
}

/** Runs `fn` with a kernel of its own (for a test that stops or kills it), then stops that kernel. */
export async function withKernel<T>(fn: (k: RunningKernel) => Promise<T>): Promise<T> {
  const k = await startKernel();
  try {
    return await fn(k);
  } finally {
    await k.stop();
  }
}
