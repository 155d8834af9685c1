/**
 * A worker in a worker thread of this process. Interrupts: the worker acknowledges an interrupt
 * message when its thread is free; if it does not within the grace time, this process's inspector
 * (NodeWorker domain) terminates the thread's running JavaScript without ending the thread.
 */
import { Worker } from "node:worker_threads";
import type { ParentToWorker, WorkerToParent } from "./messages.js";
import type { SpawnOptions, WorkerExit, WorkerTransport } from "./transport.js";
import { terminateThreadExecution } from "./thread-interrupter.js";
import { ACK_GRACE_MS } from "./worker/interrupt-flags.js";
import { ThreadOutput, type ThreadWorkerData } from "./thread-output.js";
import type { RawOutputSink } from "./output-receiver.js";

const runtimeUrl = new URL("./worker/runtime.js", import.meta.url);

/** The worker's internal MessagePort (stdio, errors), if this Node version has it where we look. */
function internalPortOf(worker: Worker): { unref(): void } | undefined {
  const key = Object.getOwnPropertySymbols(worker).find((k) => k.description === "kPort");
  const port = key === undefined ? undefined : (worker as unknown as Record<symbol, unknown>)[key];
  return typeof port === "object" && port !== null && typeof (port as { unref?: unknown }).unref === "function"
    ? (port as { unref(): void })
    : undefined;
}

export function spawnThreadWorker(opts: SpawnOptions): WorkerTransport {
  let messageCb: ((m: WorkerToParent) => void) | null = null;
  let rawCb: RawOutputSink | null = null;
  const output = new ThreadOutput((m) => messageCb?.(m), (stream, text, job) => rawCb?.(stream, text, job));
  const worker = new Worker(runtimeUrl, {
    workerData: { tspoolWorker: { workerId: opts.workerId, outputRing: output.ring } satisfies ThreadWorkerData },
    stdout: true,
    stderr: true,
    env: { ...process.env, ...(opts.env ?? {}), TSPOOL_WORKER_ID: String(opts.workerId) },
    execArgv: opts.execArgv ?? [],
    resourceLimits: opts.resourceLimits,
  });
  let exitCb: ((e: WorkerExit) => void) | null = null;
  let exited: WorkerExit | null = null;
  let lastError: Error | null = null;
  const fireExit = (e: WorkerExit) => {
    if (exited) return;
    exited = e;
    exitCb?.(e);
  };
  worker.on("error", (e) => { lastError = e; });
  worker.on("exit", (code) => {
    const err = lastError as Error | null;
    const exit: WorkerExit = { code, signal: err && /memory/i.test(err.message) ? "ERR_WORKER_OUT_OF_MEMORY" : null };
    if (err) exit.error = `${err.name}: ${err.message}`;
    output.finish();
    fireExit(exit);
  });
  let acks = 0;
  const threadId = worker.threadId;

  return {
    kind: "thread",
    pid: process.pid,
    threadId,
    sharedMemory: true,
    send(msg: ParentToWorker, transfer?: ArrayBuffer[]) {
      if (exited) return;
      worker.postMessage(msg, transfer ?? []); // throws if the message cannot be cloned
    },
    forceInterrupt() {
      const before = acks;
      setTimeout(() => {
        if (acks === before && !exited) void terminateThreadExecution(threadId);
      }, ACK_GRACE_MS);
    },
    setRef(on: boolean) {
      if (on) worker.ref();
      else worker.unref();
    },
    kill() {
      void worker.terminate();
    },
    onMessage(cb: (m: WorkerToParent) => void) {
      messageCb = cb;
      worker.on("message", (m: WorkerToParent) => {
        if (m.t === "iack") acks++;
        else output.message(m);
      });
    },
    onRawOutput(cb) {
      rawCb = cb;
      worker.stdout.setEncoding("utf8").on("data", (t: string) => cb("stdout", t));
      worker.stderr.setEncoding("utf8").on("data", (t: string) => cb("stderr", t));
      // Reading a worker's stdio refs Node's internal port of the worker for as long as the thread
      // lives, and worker.unref() does not undo that: an idle pool of threads would keep the
      // program from exiting. The worker's own handle (ref'd while the pool has work) is what
      // keeps the program alive; the stdio port need not. Reading starts on the next tick.
      setImmediate(() => internalPortOf(worker)?.unref());
    },
    onExit(cb) {
      exitCb = cb;
      if (exited) cb(exited);
    },
  };
}
