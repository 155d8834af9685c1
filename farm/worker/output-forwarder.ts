/**
 * Moves a process worker's captured output from its ring (farm/output-ring.ts) to its output pipe
 * (fd 4), which the parent reads, and tells the parent which map item the worker runs.
 *
 * Output: the helper thread passes on what the main thread writes while the main thread goes on
 * computing. The first write after a quiet spell goes out at once (a task that prints a line and
 * returns must not wait for it: the parent holds the task's result until its lines are there);
 * after a write, the helper lets output gather for a millisecond before the next, so a flood's
 * lines go out in large writes (a write per line would cost the worker and the parent more than
 * the printing itself), unless the main thread sent a message that waits on the lines still in
 * the ring, which it then asks for at once (see `urgeForwarder`). While there is no helper, and
 * when the process is about to die, the main thread writes what is in the ring itself (see
 * process-output.ts).
 *
 * Who writes to the fd is settled by a word in the ring: free, the helper writing, or the main
 * thread writing. The main thread takes it only while there is no helper (before it started,
 * after it failed), when nothing can terminate the main thread's code (the helper is what does
 * that, for interrupts), and on its way out; so an interrupt cannot leave the fd taken.
 *
 * Items: while the main thread runs a map chunk of several items, the helper looks at the item
 * it published (see farm/current-item.ts) ITEM_POLL_MS after the chunk started, then less and
 * less often (the wait doubles, up to ITEM_POLL_MAX_MS), and passes a change on as an "i" frame,
 * so the parent knows the item (or one before it) should the process be killed. The parent knows
 * where each chunk starts, so a chunk that ends before the first look costs no frame. When the
 * process exits through its own code, the main thread writes the exact item as an "x" frame.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { chunkStarted, readCurrentItem } from "../current-item.js";
import { frameHeader } from "../output-frames.js";
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
// 1 when the main thread sent a message that waits on output still in the ring
const URGENT = RING_READER_SLOTS + 2;
/** How long the helper lets output gather after a write. */
const GATHER_MS = 1;
/**
 * When the helper first looks at the item a map chunk runs, and the longest wait between looks.
 * Each look wakes the helper thread, and each frame the parent too, which CPU-bound maps pay for
 * on a 2-core machine: looks every 5 ms cost their workers ~4.5% (160 items of 7 ms: busy 1105 ms
 * against 1058 ms without), every 50 ms from each chunk's start ~0.6%. The item only matters when
 * the process is killed from outside mid-chunk, where it is a lower bound anyway ("item k or a
 * later one"); chunks of slow items last about 100 ms at most (farm/chunking.ts), so mostly end
 * before the first look.
 */
const ITEM_POLL_MS = 100;
const ITEM_POLL_MAX_MS = 1000;
/** How long the main thread waits for the helper's write in progress when the process dies. */
const TAKEOVER_WAIT_MS = 2000;

/** The helper thread's loop: forwards the ring to `fd` for as long as the process lives. */
export async function forwardRing(sab: SharedArrayBuffer, fd: number): Promise<void> {
  const reader = new RingReader(sab);
  const c = reader.control;
  Atomics.store(c, RUNNING, 1);
  for (;;) {
    if (Atomics.compareExchange(c, OWNER, FREE, HELPER) === MAIN) {
      const w = Atomics.waitAsync(c, OWNER, MAIN);
      if (w.async) await w.value;
      continue;
    }
    Atomics.store(c, URGENT, 0); // a message sent after this look asks again
    const got = reader.take((bytes) => writeAll(fd, bytes));
    release(c);
    if (!got) {
      await reader.waitForWrite(); // quiet: the next write goes out as soon as it comes
      continue;
    }
    const w = Atomics.waitAsync(c, URGENT, 0, GATHER_MS);
    if (w.async) await w.value;
  }
}

/**
 * The main thread is about to send the parent a message, which the parent holds until the output
 * written before it arrived: if some of it is still in the ring, the helper passes it on now
 * instead of after its gathering pause.
 */
export function urgeForwarder(sab: SharedArrayBuffer): void {
  const c = ringControl(sab);
  if (Atomics.load(c, URGENT) === 1) return;
  Atomics.store(c, URGENT, 1);
  Atomics.notify(c, URGENT);
}

/** The helper thread's other loop: passes on the item the main thread's map chunk runs, when it changes. */
export async function forwardCurrentItem(words: Int32Array, sab: SharedArrayBuffer, fd: number): Promise<void> {
  const c = ringControl(sab);
  let lastJob = 0;
  let lastIndex = -1;
  let wait = ITEM_POLL_MS;
  for (;;) {
    if (readCurrentItem(words) === null) {
      await chunkStarted(words);
      wait = ITEM_POLL_MS;
    }
    await sleep(wait);
    const now = readCurrentItem(words);
    if (now === null) continue;
    // a chunk that started since the last look gets the first wait again
    wait = now.job === lastJob ? Math.min(2 * wait, ITEM_POLL_MAX_MS) : ITEM_POLL_MS;
    if ((now.job !== lastJob || now.index !== lastIndex) && Atomics.compareExchange(c, OWNER, FREE, HELPER) === FREE) {
      writeAll(fd, frameHeader("i", 0, now.job, now.index, 0));
      release(c);
      lastJob = now.job;
      lastIndex = now.index;
    }
  }
}

function release(c: Int32Array): void {
  Atomics.store(c, OWNER, FREE);
  Atomics.notify(c, OWNER);
}

/**
 * The main thread writes what is in the ring to `fd` itself (there is no helper, or the process
 * is about to die), then `trailer` if given (written while it holds the fd).
 */
export function flushRing(sab: SharedArrayBuffer, fd: number, trailer?: string): void {
  const reader = new RingReader(sab);
  const c = reader.control;
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  while (Atomics.compareExchange(c, OWNER, FREE, MAIN) === HELPER && Date.now() < deadline) {
    Atomics.wait(c, OWNER, HELPER, 50);
  }
  try {
    reader.take((bytes) => writeAll(fd, bytes));
    if (trailer) writeAll(fd, trailer);
  } finally {
    release(c);
  }
}

/** Whether the helper thread forwards the ring (it started; it may have died since). */
export function forwarderStarted(sab: SharedArrayBuffer): boolean {
  return Atomics.load(ringControl(sab), RUNNING) === 1;
}
