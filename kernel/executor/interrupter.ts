/**
 * The interrupt helper thread of the executor. It watches the kernel's pipe (fd 3); for every
 * byte it gives the main thread ~200 ms to acknowledge the `{type:"interrupt"}` IPC message (the
 * main thread bumps a counter in shared memory), and if the main thread does not, it is stuck in
 * synchronous code: the helper then connects an inspector session to the main thread and asks V8
 * to terminate the running JavaScript. That aborts only the current callback; the event loop, and
 * every global of the session, carry on.
 *
 * The pipe is read through the thread's own event loop, never with a blocking read: Node's
 * process.exit() waits for every worker thread to stop, and a thread sitting in a blocking read
 * could not stop until the kernel wrote to the pipe (a cell calling process.exit() hung until an
 * interrupt).
 *
 * The end of the pipe means the kernel is gone (killed, e.g. by jupyter_client's
 * shutdown_kernel(now=True) killing its process group, which does not include this detached
 * process). The main thread may be stuck in a loop and never notice its lost IPC channel, so the
 * helper kills it, with its process group (the processes its cells and pool workers started, the
 * workers too, see process-group.ts), unless it has ended within half a second; thread workers
 * go with the process.
 *
 * Shared memory layout (Int32Array over `workerData.shared`): [0] bytes read so far, [1] interrupt
 * messages the main thread has handled so far (each interrupt comes as one byte and one message),
 * [2] 1 while the main thread runs the executor's own code that must not be cut (interrupt-guard.ts),
 * [3] spare.
 */
import { Socket } from "node:net";
import { workerData } from "node:worker_threads";
import { ACKS, PROTECTED, REQUESTS } from "./interrupt-guard.js";
import { KERNEL_PIPE_FD, isKernelPipe } from "./kernel-pipe.js";
import { terminateMainThread } from "../../farm/worker/terminate-main-thread.js";
import { killProcessGroup } from "./process-group.js";

const GRACE_MS = 200;
/** How often to look again while the main thread is in protected code past the grace period. */
const PROTECTED_POLL_MS = 20;
/** How long the main thread has to end the process itself once the kernel is gone. */
const ORPHAN_GRACE_MS = 500;

/** Resolves once the main thread has acknowledged `wanted` interrupts, or false when it did not in time. */
async function acknowledged(counters: Int32Array, wanted: number): Promise<boolean> {
  const deadline = Date.now() + GRACE_MS;
  for (;;) {
    const acked = Atomics.load(counters, ACKS);
    if (acked >= wanted) return true;
    const left = deadline - Date.now();
    if (left <= 0 && Atomics.load(counters, PROTECTED) !== 1) return false;
    // Past the grace period while compiling: the interrupt is handled right after, keep waiting.
    const wait = Atomics.waitAsync(counters, ACKS, acked, left > 0 ? left : PROTECTED_POLL_MS);
    if (wait.async) await wait.value;
  }
}

function run(shared: SharedArrayBuffer, fd: number): void {
  if (!isKernelPipe(fd)) return; // started without the kernel's pipe: interrupts come by IPC only
  const counters = new Int32Array(shared);
  let handling = Promise.resolve();
  const pipe = new Socket({ fd, readable: true, writable: false });
  pipe.on("data", (bytes: Buffer) => {
    for (let i = 0; i < bytes.length; i++) {
      handling = handling.then(async () => {
        const wanted = Atomics.add(counters, REQUESTS, 1) + 1;
        // Not acknowledged: the main thread acknowledges once its event loop runs again.
        if (!(await acknowledged(counters, wanted))) await terminateMainThread();
      });
    }
  });
  // A main thread that is free ends the process itself (its IPC channel closed too), running the
  // process's exit handlers; one stuck in a loop cannot, and is killed with the process.
  let orphaned = false;
  const kernelGone = () => {
    if (orphaned) return;
    orphaned = true;
    setTimeout(killProcessGroup, ORPHAN_GRACE_MS);
  };
  pipe.on("end", kernelGone);
  pipe.on("error", kernelGone);
}

const data = workerData as { shared: SharedArrayBuffer; fd: number } | undefined;
if (data?.shared) run(data.shared, data.fd ?? KERNEL_PIPE_FD);
