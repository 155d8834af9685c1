/**
 * A worker in a child process: `child_process.fork` of the worker runtime with an IPC channel
 * using advanced (structured clone) serialization, stdout/stderr piped for raw output, and fd 3
 * as the interrupt pipe read by the worker's helper thread.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Writable } from "node:stream";
import type { ParentToWorker, WorkerToParent } from "./messages.js";
import type { SpawnOptions, WorkerExit, WorkerTransport } from "./transport.js";

const runtimePath = fileURLToPath(new URL("./worker/runtime.js", import.meta.url));

export function spawnProcessWorker(opts: SpawnOptions): WorkerTransport {
  const env: Record<string, string | undefined> = { ...process.env, ...(opts.env ?? {}), TSPOOL_WORKER_ID: String(opts.workerId) };
  const child: ChildProcess = fork(runtimePath, [], {
    stdio: ["ignore", "pipe", "pipe", "pipe", "ipc"],
    serialization: "advanced",
    env,
    execArgv: opts.execArgv ?? [],
  });
  const interruptPipe = child.stdio[3] as Writable;
  interruptPipe.on("error", () => { /* the worker is gone */ });
  let exitCb: ((e: WorkerExit) => void) | null = null;
  let exited: WorkerExit | null = null;
  const fireExit = (e: WorkerExit) => {
    if (exited) return;
    exited = e;
    exitCb?.(e);
  };
  child.on("exit", (code, signal) => fireExit({ code, signal }));
  child.on("error", () => { if (child.exitCode !== null || child.signalCode !== null) fireExit({ code: child.exitCode, signal: child.signalCode }); });

  return {
    kind: "process",
    pid: child.pid ?? -1,
    threadId: 0,
    sharedMemory: false,
    send(msg: ParentToWorker) {
      if (!child.connected) return; // the exit event follows
      child.send(msg); // throws if the message cannot be serialized
    },
    forceInterrupt() {
      if (!interruptPipe.destroyed) interruptPipe.write(Buffer.from([1]));
    },
    setRef(on: boolean) {
      const handles: ({ ref(): unknown; unref(): unknown } | null | undefined)[] = [
        child, child.channel as unknown as { ref(): unknown; unref(): unknown } | undefined,
        child.stdout as unknown as { ref(): unknown; unref(): unknown }, child.stderr as unknown as { ref(): unknown; unref(): unknown },
        interruptPipe as unknown as { ref(): unknown; unref(): unknown },
      ];
      for (const h of handles) {
        if (h && typeof h.ref === "function") { if (on) h.ref(); else h.unref(); }
      }
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
    onMessage(cb: (m: WorkerToParent) => void) {
      child.on("message", cb as (m: unknown) => void);
    },
    onRawOutput(cb) {
      child.stdout!.setEncoding("utf8").on("data", (t: string) => cb("stdout", t));
      child.stderr!.setEncoding("utf8").on("data", (t: string) => cb("stderr", t));
    },
    onExit(cb) {
      exitCb = cb;
      if (exited) cb(exited);
    },
  };
}
