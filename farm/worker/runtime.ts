/**
 * Entry point of every farm worker, as a child process (forked with an IPC channel and fd 3 as
 * the interrupt pipe) or as a worker thread (workerData.tspoolWorker set). It captures output,
 * runs jobs, serves handle calls through the parent, and keeps its global namespace for as long
 * as it lives.
 */
import { isMainThread, parentPort, threadId, Worker, workerData } from "node:worker_threads";
import type { WorkerEnv } from "../handles.js";
import type { SerializedError } from "../errors.js";
import { reviveError } from "../errors.js";
import type { ParentToWorker, WorkerToParent } from "../messages.js";
import { CodeCache } from "./code-cache.js";
import { ACKNOWLEDGED, FLAG_SLOTS, REQUESTED, TERMINATED } from "./interrupt-flags.js";
import type { HelperData } from "./interrupt-helper.js";
import { JobRunner, type Channel } from "./job-runner.js";
import { OutputCapture } from "./output-capture.js";
import { installCommonJsGlobals } from "./commonjs-globals.js";
import { installBundlerHelpers } from "./bundler-helpers.js";
import { internalSetImmediate, TaskTimers } from "./interruptible-timers.js";
import { ThreadSink, type ProcessSink } from "./output-sinks.js";
import { ProcessOutput } from "./process-output.js";
import { announceChildProcesses, captureRawWrites } from "./raw-writes.js";
import { filterLoaderWarning } from "./warning-filter.js";
import { guardChannelReads } from "./channel-guard.js";
import { createCurrentItemWords } from "../current-item.js";
import type { BarrieredMessage } from "../output-receiver.js";
import type { ThreadWorkerData } from "../thread-output.js";
import { preferSynchronousOsr } from "../synchronous-osr.js";

interface ThreadData { tspoolWorker: ThreadWorkerData }

const threadData = !isMainThread ? (workerData as ThreadData | undefined)?.tspoolWorker : undefined;
const isThread = threadData !== undefined;
const workerId = isThread ? threadData.workerId : Number(process.env.TSPOOL_WORKER_ID ?? "0");

filterLoaderWarning();
installBundlerHelpers();
// V8 flags are per process: a thread worker has its parent's (the kernel's executor sets the same)
if (!isThread) preferSynchronousOsr();

let channel: Channel;
let listen: (cb: (m: ParentToWorker) => void) => void;
/** Calls `cb` when a message from the parent could not be read (it failed to deserialize). */
let onUnreadable: (cb: (error: unknown) => void) => void;
/** The map item running, for the parent (see farm/current-item.ts): a thread shares the parent's words. */
const itemWords = isThread ? threadData.currentItem : createCurrentItemWords();
let sink: ProcessSink | ThreadSink;
let processOutput: ProcessOutput | null = null;
if (isThread) {
  const port = parentPort!;
  channel = { isThread: true, send: (m, transfer) => port.postMessage(m, transfer ?? []) };
  listen = (cb) => port.on("message", cb);
  onUnreadable = (cb) => port.on("messageerror", cb);
  sink = new ThreadSink(threadData.outputRing, () => port.postMessage({ t: "output" } satisfies WorkerToParent));
} else {
  if (typeof process.send !== "function") {
    process.stderr.write("tspool: farm/worker/runtime.js is started by a Pool, not directly\n");
    process.exit(2);
  }
  const send = process.send.bind(process);
  // each message says how many output frames were written before it (see farm/output-receiver.ts)
  channel = {
    isThread: false,
    send: (m) => {
      if (!process.connected) return;
      processOutput!.beforeMessage();
      send([sink.written, m] satisfies BarrieredMessage);
    },
  };
  listen = (cb) => process.on("message", cb as (m: unknown) => void);
  onUnreadable = guardChannelReads;
  process.on("disconnect", () => process.exit(0));
  processOutput = new ProcessOutput(itemWords);
  sink = processOutput.sink;
  // A terminal's Ctrl-C signals the whole foreground process group, workers included. The
  // program decides what Ctrl-C means (e.g. pool.interrupt()); a worker goes when its parent
  // does (see interrupt-helper.ts), not on the parent's keyboard.
  process.on("SIGINT", () => { /* ignored: see above */ });
}

let nextCallId = 1;
const pendingCalls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
const env: WorkerEnv & { threadId: number } = {
  isThread,
  workerId,
  threadId,
  call(kind, id, method, args) {
    return new Promise((resolve, reject) => {
      const cid = nextCallId++;
      pendingCalls.set(cid, { resolve, reject });
      channel.send({ t: "hcall", cid, kind, hid: id, method, args });
    });
  },
  jobSignal: () => runner.jobSignal(),
};
(globalThis as Record<string, unknown>).__tspoolWorker = env;
installCommonJsGlobals();

const output = new OutputCapture(sink, () => runner.tag());
output.install();
captureRawWrites((stream, bytes) => output.writeRaw(stream, bytes));
if (processOutput) announceChildProcesses(() => processOutput!.sink.nativeOutputPossible());
const cache = new CodeCache(env);
const runner: JobRunner = new JobRunner(channel, cache, output, env, itemWords);
const timers = new TaskTimers();
timers.install(() => runner.tag().job);
runner.onJobEnd = (job, stopped) => timers.jobEnded(job, stopped);

process.on("uncaughtException", (e) => {
  process.stderr.write(`Uncaught exception in worker ${workerId} (outside a task's await chain): ${e instanceof Error ? e.stack : String(e)}\n`);
});
process.on("unhandledRejection", (e) => {
  process.stderr.write(`Unhandled promise rejection in worker ${workerId}: ${e instanceof Error ? e.stack : String(e)}\n`);
});

// Interrupt plumbing for process workers: the helper thread reads the parent's bytes on fd 3.
let flags: Int32Array | null = null;
let interruptsSeen = 0;
let terminationsSeen = 0;
if (!isThread) {
  const sab = new SharedArrayBuffer(FLAG_SLOTS * 4);
  flags = new Int32Array(sab);
  runner.gate = () => Atomics.load(flags!, REQUESTED) > interruptsSeen;
  runner.terminatedSinceLastCheck = () => {
    const t = Atomics.load(flags!, TERMINATED);
    const killed = t > terminationsSeen;
    terminationsSeen = t;
    return killed;
  };
  // started right after "ready" so that it does not compete with this thread's start-up
  internalSetImmediate(() => {
    const helper = new Worker(new URL("./interrupt-helper.js", import.meta.url), {
      workerData: { sab, fd: 3, outputRing: processOutput!.ring, currentItem: itemWords } satisfies HelperData,
      stdout: false,
      stderr: false,
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
    });
    helper.unref();
    helper.on("error", (e) => process.stderr.write(`tspool: interrupt helper of worker ${workerId} failed: ${e.message}\n`));
    helper.on("exit", () => processOutput!.helperExited());
  });
}

/** Tells whoever waits on an interrupt that this thread took it: the helper thread (processes) or the parent (threads). */
function acknowledgeInterrupt(): void {
  if (flags) {
    interruptsSeen++;
    Atomics.store(flags, ACKNOWLEDGED, interruptsSeen);
    Atomics.notify(flags, ACKNOWLEDGED);
  } else channel.send({ t: "iack" });
}

// Messages read so far, counted as the parent numbers those it sends: one that cannot be read
// (too deeply nested for this thread's stack) is named by its number, and the parent fails its job.
let received = 0;
onUnreadable((e) => {
  received++;
  channel.send({ t: "unreadable", seq: received, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
});

listen((m) => {
  received++;
  switch (m.t) {
    case "job":
      runner.enqueue(m);
      break;
    case "interrupt":
      acknowledgeInterrupt();
      runner.interrupt(m.running, m.cancel);
      break;
    case "cancel":
      runner.cancel(m.ids);
      break;
    case "unstick":
      // taken like an interrupt (the helper stops waiting for us), but stops no job
      acknowledgeInterrupt();
      runner.unstuck();
      break;
    case "withdraw":
      runner.withdraw(m.ids);
      break;
    case "hreply": {
      const p = pendingCalls.get(m.cid);
      if (!p) break;
      pendingCalls.delete(m.cid);
      if (m.ok) p.resolve(m.value);
      else p.reject(reviveError(m.error as SerializedError));
      break;
    }
    case "stats": {
      const mem = process.memoryUsage();
      channel.send({ t: "stats", rss: mem.rss, heapUsed: mem.heapUsed });
      break;
    }
    case "nudge":
      break;
    case "exit":
      // leave even if an interrupted task left timers behind. Not synchronously: when "exit" came
      // before this listener was attached, Node replays it from a callback that still uses the
      // IPC channel afterwards, and a disconnect inside that callback makes Node throw there.
      internalSetImmediate(() => (isThread ? process.exit(0) : process.disconnect()));
      break;
  }
});

channel.send({ t: "ready", pid: process.pid, threadId } satisfies WorkerToParent);
