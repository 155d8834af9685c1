/**
 * Chunk sizes for map-like calls. The first chunks use CPython's rule, ceil(n / (4 * workers)).
 * Once a chunk has been timed, the rest are sized by guided self-scheduling: each takes a share of
 * what is left, ceil(left / (2 * workers)), so chunks shrink as the map nears its end and the
 * workers finish together, while the middle of a map still travels in few messages. Two bounds
 * in time apply: a chunk is cut to about MAX_CHUNK_MS of work (the live display and interrupts
 * see progress at least that often, and an item that turns out slower than the first ones cannot
 * hold many others back), and it is not cut below MIN_CHUNK_MS of work (never below one item),
 * where the fixed cost of a message (~0.1 ms) would start to count. Fast items therefore still
 * travel in large chunks (tens of thousands of tiny items), which measured best for them.
 *
 * Measured (2 workers, 160 items of 6.6 ms, library and %%pool map): a fixed 10 ms target sent
 * 44 chunks whose last ones (2 items) left one worker idle for a chunk at the end (~12 ms); the
 * guided sizes send about 20 and end within an item.
 */
export const MAX_CHUNK_MS = 100;
export const MIN_CHUNK_MS = 5;

export function initialChunksize(n: number, workers: number): number {
  return Math.max(1, Math.ceil(n / (4 * Math.max(1, workers))));
}

/**
 * Numeric arrays travel as one Float64Array per chunk, whose cost hardly depends on its length,
 * so large ones start with half as many chunks: measured here (2 workers, x * x) 20,000 items
 * took 1.0 ms in 4 chunks against 1.9 ms in 8, and 1,000,000 items 15 ms against 24 ms.
 */
export function initialNumericChunksize(n: number, workers: number): number {
  if (n < NUMERIC_LARGE) return initialChunksize(n, workers);
  return Math.max(1, Math.ceil(n / (2 * Math.max(1, workers))));
}
const NUMERIC_LARGE = 2000;

/**
 * The size of the next chunk once items have been timed (`msPerItem`): a share of the `left`
 * items, within the bounds above and never above the initial size.
 */
export function guidedChunksize(msPerItem: number, initial: number, left: number, workers: number): number {
  if (!(msPerItem > 0)) return initial;
  const most = Math.min(initial, Math.max(1, Math.floor(MAX_CHUNK_MS / msPerItem)));
  const least = Math.min(most, Math.ceil(MIN_CHUNK_MS / msPerItem));
  const share = Math.ceil(left / (2 * Math.max(1, workers)));
  return Math.max(1, Math.min(most, Math.max(least, share)));
}

/**
 * An element of a numeric chunk (items or results) as a plain array would have held it:
 * a float64 element reads back as a heap number even when it is an integer like 5e7, and V8 then
 * compiles the code using it (the task in a worker, the caller with the results) with double
 * comparisons and arithmetic (measured: a sum-to-n loop runs ~4% slower). Integers in int32 range
 * (except -0) become small ints again; other numbers are returned as they are.
 */
export function numericItem(x: number): number {
  const k = x | 0;
  return k === x && (k !== 0 || 1 / x > 0) ? k : x;
}

/** Numbers travel as one Float64Array per chunk instead of element by element. */
export function asNumeric(items: readonly unknown[] | ArrayLike<number>): Float64Array | null {
  if (items instanceof Float64Array) return items;
  if (ArrayBuffer.isView(items)) {
    if (items instanceof BigInt64Array || items instanceof BigUint64Array || items instanceof DataView) return null;
    return Float64Array.from(items as ArrayLike<number>);
  }
  const a = items as readonly unknown[];
  const n = a.length;
  if (n < 8) return null;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (typeof v !== "number") return null;
    out[i] = v;
  }
  return out;
}
