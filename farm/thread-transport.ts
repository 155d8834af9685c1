/**
 * A worker in a worker thread of this process. Interrupts: the worker acknowledges an interrupt
 * message when its thread is free; if it does not within the grace time, this process's inspector
 * (NodeWorker domain) terminates the thread's running JavaScript without ending the thread.
 *
 * What Node cannot do: stop a thread that is inside a native call (a blocking system call such
 * as a synchronous read of a pipe with no writer, or `execSync` waiting for its child). Neither
 * the inspector nor `worker.terminate()` reaches it until the call returns. `kill()` therefore
 * gives such a thread ABANDON_AFTER_MS to end, then abandons it: the transport reports it gone
 * (so the pool settles its task and starts a new thread for the id), stops listening to it and
 * unrefs it. The thread itself ends when its call returns (its termination is pending, so no more
 * of its JavaScript runs); until then the process cannot exit, since Node joins every thread at
 * exit, even on `process.exit()`.
 */
import { Worker } from "node:worker_threads";
import type { ParentToWorker, WorkerToParent } from "./messages.js";
import type { SpawnOptions, WorkerExit, WorkerTransport } from "./transport.js";
import { terminateThreadExecution } from "./thread-interrupter.js";
import { ACK_GRACE_MS } from "./worker/interrupt-flags.js";
import { ThreadOutput, type ThreadWorkerData } from "./thread-output.js";
import { createCurrentItemWords, readCurrentItem } from "./current-item.js";
import type { RawOutputSink } from "./output-receiver.js";

const runtimeUrl = new URL("./worker/runtime.js", import.meta.url);

/** How long a terminated thread may take to end before it is abandoned (see above). */
const ABANDON_AFTER_MS = 250;

/** The environment for a thread: like a child process's, a variable given as undefined is removed. */
function threadEnv(extra: Record<string, string | undefined> | undefined, workerId: number): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, ...(extra ?? {}), TSPOOL_WORKER_ID: String(workerId) };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env as Record<string, string>;
}

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
  const itemWords = createCurrentItemWords();
  const worker = new Worker(runtimeUrl, {
    workerData: { tspoolWorker: { workerId: opts.workerId, outputRing: output.ring, currentItem: itemWords } satisfies ThreadWorkerData },
    stdout: true,
    stderr: true,
    env: threadEnv(opts.env, opts.workerId),
    execArgv: opts.execArgv ?? [],
    resourceLimits: opts.resourceLimits,
  });
  let exitCb: ((e: WorkerExit) => void) | null = null;
  let exited: WorkerExit | null = null;
  let lastError: Error | null = null;
  let abandonTimer: NodeJS.Timeout | null = null;
  const fireExit = (e: WorkerExit) => {
    if (exited) return;
    exited = e;
    exitCb?.(e);
  };
  worker.on("error", (e) => { lastError = e; });
  worker.on("exit", (code) => {
    const err = lastError as Error | null;
    if (abandonTimer) { clearTimeout(abandonTimer); abandonTimer = null; }
    const exit: WorkerExit = { code, signal: err && /memory/i.test(err.message) ? "ERR_WORKER_OUT_OF_MEMORY" : null };
    if (err) exit.error = `${err.name}: ${err.message}`;
    output.finish();
    fireExit(exit);
  });
  let acks = 0;
  const threadId = worker.threadId;
  const abandon = () => {
    abandonTimer = null;
    if (exited) return;
    worker.removeAllListeners("message");
    worker.stdout.removeAllListeners("data");
    worker.stderr.removeAllListeners("data");
    worker.unref();
    fireExit({
      code: null, signal: null,
      error: `thread ${threadId} did not end within ${ABANDON_AFTER_MS} ms of being terminated: it is blocked in a native call, ` +
        "which Node cannot interrupt. It was abandoned; it ends when that call returns, and until then this process cannot exit.",
    });
  };

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
      if (exited) return; // an abandoned thread stays unref'd
      if (on) worker.ref();
      else worker.unref();
    },
    kill() {
      if (exited) return;
      void worker.terminate();
      abandonTimer ??= setTimeout(abandon, ABANDON_AFTER_MS);
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
    currentItem() {
      // shared memory: what the thread wrote last, also after it died
      const cur = readCurrentItem(itemWords);
      return cur && { ...cur, exact: true };
    },
    onExit(cb) {
      exitCb = cb;
      if (exited) cb(exited);
    },
  };
}
