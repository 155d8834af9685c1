/**
 * Helper thread of a process worker. It passes the worker's captured output, and the map item it
 * runs, on to fd 4 (see output-forwarder.ts), and it reads interrupt bytes from the worker's fd 3 (a pipe from
 * the parent). For each, it gives the main thread ACK_GRACE_MS to take the matching interrupt
 * message (which it can only do if it is not stuck in synchronous code); if it does not, it
 * connects an inspector session to the main thread and terminates the running JavaScript. The
 * termination aborts only the current callback: the worker's globals survive and its event loop
 * goes on, where the pending interrupt message then reports the job as interrupted.
 */
import { Socket } from "node:net";
import { workerData } from "node:worker_threads";
import { ACK_GRACE_MS, ACKNOWLEDGED, REQUESTED, TERMINATED } from "./interrupt-flags.js";
import { forwardCurrentItem, forwardRing, OUTPUT_FD } from "./output-forwarder.js";
import { terminateMainThread } from "./terminate-main-thread.js";

export interface HelperData {
  /** The interrupt flags shared with the main thread (interrupt-flags.ts). */
  sab: SharedArrayBuffer;
  /** The interrupt pipe. */
  fd: number;
  /** The main thread's output ring, to pass on to the output pipe. */
  outputRing: SharedArrayBuffer;
  /** Where the main thread publishes the map item it runs (see farm/current-item.ts). */
  currentItem: Int32Array;
}

const data = workerData as HelperData;
const flags = new Int32Array(data.sab);
const fd = data.fd;
void forwardRing(data.outputRing, OUTPUT_FD);
void forwardCurrentItem(data.currentItem, data.outputRing, OUTPUT_FD);

async function waitForAck(req: number): Promise<boolean> {
  const deadline = Date.now() + ACK_GRACE_MS;
  for (;;) {
    const acked = Atomics.load(flags, ACKNOWLEDGED);
    if (acked >= req) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    const w = Atomics.waitAsync(flags, ACKNOWLEDGED, acked, left);
    if (w.async) await w.value;
  }
}

let chain = Promise.resolve();
// A socket (polled by the event loop), not an fs stream: a blocking read on the thread pool would
// keep the process from exiting until the parent closed the pipe.
const stream = new Socket({ fd, readable: true, writable: false });
stream.on("data", (chunk: Buffer) => {
  for (let k = 0; k < chunk.length; k++) {
    chain = chain.then(async () => {
      const req = Atomics.add(flags, REQUESTED, 1) + 1;
      if (!(await waitForAck(req))) await terminateMainThread(() => Atomics.add(flags, TERMINATED, 1));
    });
  }
});
// The parent closed its end: it is gone (a worker normally exits before that). If the main thread
// is stuck in synchronous code it cannot notice the lost IPC channel, so end the process here.
const orphaned = () => { process.kill(process.pid, "SIGKILL"); };
stream.on("end", orphaned);
stream.on("error", orphaned);
