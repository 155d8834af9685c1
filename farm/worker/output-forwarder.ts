/**
 * Moves a process worker's captured output from its ring (farm/output-ring.ts) to its output pipe
 * (fd 4), which the parent reads. The helper thread does it within a millisecond of the main
 * thread writing something, so the output leaves while the main thread computes; waiting that
 * millisecond gathers a flood's lines into large writes (a write per line would cost the worker
 * and the parent more than the printing itself). While there is no helper, and when the process
 * is about to die, the main thread writes what is in the ring itself (see process-output.ts).
 *
 * Who writes to the fd is settled by a word in the ring: free, the helper writing, or the main
 * thread writing. The main thread takes it only while there is no helper (before it started,
 * after it failed), when nothing can terminate the main thread's code (the helper is what does
 * that, for interrupts), and on its way out; so an interrupt cannot leave the fd taken.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { writeAll } from "./fd-writes.js";
import { RING_READER_SLOTS, RingReader, ringControl } from "../output-ring.js";

/** The process worker's output pipe (set up by farm/process-transport.ts). */
export const OUTPUT_FD = 4;

// who writes to the fd: free, the helper, the main thread
const OWNER = RING_READER_SLOTS;
const FREE = 0;
const HELPER = 1;
const MAIN = 2;
// 1 once the helper forwards
const RUNNING = RING_READER_SLOTS + 1;
/** How long the helper lets output gather once woken. */
const GATHER_MS = 1;
/** How long the main thread waits for the helper's write in progress when the process dies. */
const TAKEOVER_WAIT_MS = 2000;

/** The helper thread's loop: forwards the ring to `fd` for as long as the process lives. */
export async function forwardRing(sab: SharedArrayBuffer, fd: number): Promise<void> {
  const reader = new RingReader(sab);
  const c = reader.control;
  Atomics.store(c, RUNNING, 1);
  for (;;) {
    const owner = Atomics.compareExchange(c, OWNER, FREE, HELPER);
    if (owner === MAIN) {
      const w = Atomics.waitAsync(c, OWNER, MAIN);
      if (w.async) await w.value;
      continue;
    }
    const got = reader.take((bytes) => writeAll(fd, bytes));
    Atomics.store(c, OWNER, FREE);
    Atomics.notify(c, OWNER);
    if (!got) await reader.waitForWrite();
    await sleep(GATHER_MS);
  }
}

/** The main thread writes what is in the ring to `fd` itself (there is no helper, or the process is about to die). */
export function flushRing(sab: SharedArrayBuffer, fd: number): void {
  const reader = new RingReader(sab);
  const c = reader.control;
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  while (Atomics.compareExchange(c, OWNER, FREE, MAIN) === HELPER && Date.now() < deadline) {
    Atomics.wait(c, OWNER, HELPER, 50);
  }
  try {
    reader.take((bytes) => writeAll(fd, bytes));
  } finally {
    Atomics.store(c, OWNER, FREE);
    Atomics.notify(c, OWNER);
  }
}

/** Whether the helper thread forwards the ring (it started; it may have died since). */
export function forwarderStarted(sab: SharedArrayBuffer): boolean {
  return Atomics.load(ringControl(sab), RUNNING) === 1;
}
