/**
 * Where a worker publishes the map item it runs, so that the pool can name the item a crashed
 * chunk died on: two Int32 words in shared memory, the job (0: none) and the item's absolute
 * index. The worker's main thread sets the job when a chunk of several items starts and clears
 * it when the chunk ends; the index is a plain store per item (no more than that is paid per
 * tiny item). A thread worker shares the words with the parent, which reads them after the
 * thread died. A process worker shares them with its helper thread, which passes changes on to
 * the parent from 100 ms into a chunk, less and less often (see worker/output-forwarder.ts), and
 * its main thread writes them to the parent itself when the process exits through its own code
 * (process.exit).
 */
const JOB = 0;
/** The word of the item's index: the runner writes `words[ITEM_INDEX] = i` for each item. */
export const ITEM_INDEX = 1;

export function createCurrentItemWords(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** A chunk of several items starts (at item `index`): watchers waiting for one wake up. */
export function beginChunk(words: Int32Array, job: number, index: number): void {
  words[ITEM_INDEX] = index;
  Atomics.store(words, JOB, job); // after the index: a reader that sees the job sees its items
  Atomics.notify(words, JOB);
}

export function endChunk(words: Int32Array): void {
  Atomics.store(words, JOB, 0);
}

/** The chunk running and its item, or null if none. */
export function readCurrentItem(words: Int32Array): { job: number; index: number } | null {
  const job = Atomics.load(words, JOB);
  return job === 0 ? null : { job, index: Atomics.load(words, ITEM_INDEX) };
}

/** Waits (without blocking the thread's event loop) until a chunk of several items runs. */
export async function chunkStarted(words: Int32Array): Promise<void> {
  const w = Atomics.waitAsync(words, JOB, 0);
  if (w.async) await w.value;
}
