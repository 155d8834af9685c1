/**
 * The interrupt helper thread of the executor. It blocks reading the interrupt pipe (fd 3);
 * for every byte it gives the main thread ~200 ms to acknowledge the `{type:"interrupt"}` IPC
 * message (the main thread bumps a counter in shared memory), and if the main thread does not,
 * it is stuck in synchronous code: the helper then connects an inspector session to the main
 * thread and asks V8 to terminate the running JavaScript. That aborts only the current callback;
 * the event loop, and every global of the session, carry on.
 *
 * Shared memory layout (Int32Array over `workerData.shared`): [0] bytes read so far, [1] interrupt
 * messages the main thread has handled so far (each interrupt comes as one byte and one message),
 * [2] 1 while the main thread runs the executor's own code that must not be cut (interrupt-guard.ts),
 * [3] spare (used for sleeping while the pipe is empty).
 */
import { fstatSync, readSync } from "node:fs";
import { Session } from "node:inspector";
import { workerData } from "node:worker_threads";
import { ACKS, PROTECTED, REQUESTS } from "./interrupt-guard.js";

const GRACE_MS = 200;

function terminateMainThread(): void {
  const session = new Session();
  try {
    session.connectToMainThread();
    session.post("Runtime.terminateExecution", () => session.disconnect());
  } catch {
    session.disconnect();
  }
}

function isPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

function run(shared: SharedArrayBuffer, fd: number): void {
  if (!isPipe(fd)) return; // started without the kernel's interrupt pipe: interrupts come by IPC only
  const counters = new Int32Array(shared);
  const buf = Buffer.alloc(64);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(counters, 3, 0, 20); // non-blocking pipe: poll
        continue;
      }
      return; // no interrupt pipe (EBADF) or it broke: nothing to do
    }
    if (n === 0) return; // the kernel closed the pipe
    const wanted = Atomics.add(counters, REQUESTS, 1) + 1;
    const deadline = Date.now() + GRACE_MS;
    for (;;) {
      const acked = Atomics.load(counters, ACKS);
      if (acked >= wanted) break;
      const left = deadline - Date.now();
      if (left <= 0 && Atomics.load(counters, PROTECTED) === 1) {
        Atomics.wait(counters, ACKS, acked, 20); // compiling: the interrupt is handled right after
        continue;
      }
      if (left <= 0) {
        terminateMainThread(); // the main thread acknowledges once its event loop runs again
        break;
      }
      Atomics.wait(counters, ACKS, acked, left);
    }
  }
}

const data = workerData as { shared: SharedArrayBuffer; fd: number } | undefined;
if (data?.shared) run(data.shared, data.fd ?? 3);
