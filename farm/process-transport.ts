/**
 * A worker in a child process: `child_process.fork` of the worker runtime with an IPC channel
 * using advanced (structured clone) serialization, fd 3 as the interrupt pipe read by the
 * worker's helper thread, fd 4 as the pipe of its captured output, and stdout/stderr piped for
 * raw output. Captured output travels as numbered frames (see output-frames.ts), fd 1 and fd 2
 * carry markers of the job around the raw output of child processes the worker starts, and each
 * IPC message says how many frames came before it; an OutputReceiver puts it all back in order. The exit is reported once
 * the pipes and the channel are read to their end, so nothing the worker wrote before dying
 * comes after the news of its death.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Readable, Writable } from "node:stream";
import type { ParentToWorker, WorkerToParent } from "./messages.js";
import { OutputReceiver, type BarrieredMessage, type RawOutputSink } from "./output-receiver.js";
import type { CurrentItem, SpawnOptions, WorkerExit, WorkerTransport } from "./transport.js";
import { OUTPUT_FD } from "./worker/output-forwarder.js";

const runtimePath = fileURLToPath(new URL("./worker/runtime.js", import.meta.url));
/**
 * After the worker exited, how long to wait for its pipes to close. They close at once unless
 * a process the worker started still holds them; its later output is then passed on untagged.
 */
const PIPE_CLOSE_WAIT_MS = 1000;

export function spawnProcessWorker(opts: SpawnOptions): WorkerTransport {
  const env: Record<string, string | undefined> = { ...process.env, ...(opts.env ?? {}), TSPOOL_WORKER_ID: String(opts.workerId) };
  const child: ChildProcess = fork(runtimePath, [], {
    stdio: ["ignore", "pipe", "pipe", "pipe", "pipe", "ipc"],
    serialization: "advanced",
    env,
    execArgv: opts.execArgv ?? [],
  });
  const interruptPipe = child.stdio[3] as Writable;
  interruptPipe.on("error", () => { /* the worker is gone */ });

  let messageCb: ((m: WorkerToParent) => void) | null = null;
  let rawCb: RawOutputSink | null = null;
  // the map item the worker runs, as its last "i" or "x" frame said (an exact "x" is not overridden)
  let item: CurrentItem | null = null;
  const output = new OutputReceiver((m) => messageCb?.(m), (stream, text, job) => rawCb?.(stream, text, job), {
    item: (job, index, exact) => { if (!item?.exact) item = { job, index, exact }; },
  });
  child.on("message", (m: unknown) => {
    const [barrier, message] = m as BarrieredMessage;
    output.message(message, barrier);
  });

  // the exit is reported when the process has exited and its pipes and channel are at their end
  let openEnds = 4;
  let exitInfo: WorkerExit | null = null;
  let exitCb: ((e: WorkerExit) => void) | null = null;
  let exited: WorkerExit | null = null;
  let closeWait: NodeJS.Timeout | null = null;
  const maybeFireExit = (force = false) => {
    if (exited || !exitInfo || (openEnds > 0 && !force)) return;
    if (closeWait) clearTimeout(closeWait);
    output.finish();
    exited = exitInfo;
    exitCb?.(exitInfo);
  };
  const endOfOne = () => { openEnds--; maybeFireExit(); };
  const pipes = [
    { pipe: child.stdio[OUTPUT_FD] as Readable, streams: ["stdout", "stderr"] as const, raw: null },
    { pipe: child.stdout!, streams: [], raw: "stdout" as const },
    { pipe: child.stderr!, streams: [], raw: "stderr" as const },
  ];
  for (const { pipe, streams, raw } of pipes) {
    const source = output.addSource([...streams], raw);
    let ended = false;
    const end = () => { if (ended) return; ended = true; source.end(); endOfOne(); };
    pipe.on("data", (chunk: Buffer) => source.feed(chunk));
    pipe.on("end", end);
    pipe.on("close", end);
    pipe.on("error", end);
  }
  let disconnected = false;
  child.on("disconnect", () => { if (!disconnected) { disconnected = true; endOfOne(); } });
  const onGone = (e: WorkerExit) => {
    if (exitInfo) return;
    exitInfo = e;
    if (!child.connected && !disconnected) { disconnected = true; openEnds--; }
    closeWait = setTimeout(() => maybeFireExit(true), PIPE_CLOSE_WAIT_MS);
    maybeFireExit();
  };
  child.on("exit", (code, signal) => onGone({ code, signal }));
  child.on("error", () => { if (child.exitCode !== null || child.signalCode !== null) onGone({ code: child.exitCode, signal: child.signalCode }); });

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
        ...pipes.map((p) => p.pipe as unknown as { ref(): unknown; unref(): unknown }),
        interruptPipe as unknown as { ref(): unknown; unref(): unknown },
      ];
      for (const h of handles) {
        if (h && typeof h.ref === "function") { if (on) h.ref(); else h.unref(); }
      }
      if (closeWait) { if (on) closeWait.ref(); else closeWait.unref(); }
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
    onMessage(cb: (m: WorkerToParent) => void) {
      messageCb = cb;
    },
    currentItem() {
      return item;
    },
    onRawOutput(cb) {
      rawCb = cb;
    },
    onExit(cb) {
      exitCb = cb;
      if (exited) cb(exited);
    },
  };
}
