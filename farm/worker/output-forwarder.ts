/**
 * Moves a process worker's captured output from its ring (farm/output-ring.ts) to its output pipe
 * (fd 4), which the parent reads. The helper thread does it as soon as the main thread wrote something,
 * so the output leaves while the main thread computes, and in large batches in a flood. When
 * the process is about to die, the main thread takes the fd over and writes what is left itself
 * (see process-output.ts).
 *
 * Who writes to the fd is settled by a word in the ring: free, the helper writing, or the main
 * thread writing. The main thread only ever takes it on its way out, so an interrupt that
 * terminates its code cannot leave the fd taken.
 */
import { writeAll } from "./fd-writes.js";
import { RING_READER_SLOT, RingReader } from "../output-ring.js";

/** The process worker's output pipe (set up by farm/process-transport.ts). */
export const OUTPUT_FD = 4;

const FREE = 0;
const HELPER = 1;
const MAIN = 2;
/** How long the main thread waits for the helper's write in progress when the process dies. */
const TAKEOVER_WAIT_MS = 2000;
/** The helper thread's loop: forwards the ring to `fd` for as long as the process lives. */
export async function forwardRing(sab: SharedArrayBuffer, fd: number): Promise<void> {
  const reader = new RingReader(sab);
  const c = reader.control;
  for (;;) {
    const owner = Atomics.compareExchange(c, RING_READER_SLOT, FREE, HELPER);
    if (owner === MAIN) {
      const w = Atomics.waitAsync(c, RING_READER_SLOT, MAIN);
      if (w.async) await w.value;
      continue;
    }
    const got = reader.take((bytes) => writeAll(fd, bytes));
    Atomics.store(c, RING_READER_SLOT, FREE);
    Atomics.notify(c, RING_READER_SLOT);
    if (!got) await reader.waitForWrite();
  }
}

/** The main thread writes what is left in the ring to `fd` itself (the process is about to die). */
export function flushRing(sab: SharedArrayBuffer, fd: number): void {
  const reader = new RingReader(sab);
  const c = reader.control;
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  while (Atomics.compareExchange(c, RING_READER_SLOT, FREE, MAIN) === HELPER && Date.now() < deadline) {
    Atomics.wait(c, RING_READER_SLOT, HELPER, 50);
  }
  try {
    reader.take((bytes) => writeAll(fd, bytes));
  } finally {
    Atomics.store(c, RING_READER_SLOT, FREE);
    Atomics.notify(c, RING_READER_SLOT);
  }
}
