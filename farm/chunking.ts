/**
 * Chunk sizes for map-like calls. The first chunks use CPython's rule, ceil(n / (4 * workers)).
 * Once a chunk has been timed, a chunk that would take longer than TARGET_CHUNK_MS is cut down to
 * about that much work (never below one item): with slow items, smaller chunks balance the
 * workers better at the end, and the fixed cost of a message (~0.1 ms) stays negligible. Fast
 * items keep the initial size, which measured best for tiny tasks (fewer, larger messages).
 */
export const TARGET_CHUNK_MS = 10;

export function initialChunksize(n: number, workers: number): number {
  return Math.max(1, Math.ceil(n / (4 * Math.max(1, workers))));
}

export function adaptedChunksize(msPerItem: number, initial: number): number {
  if (!(msPerItem > 0)) return initial;
  return Math.max(1, Math.min(initial, Math.ceil(TARGET_CHUNK_MS / msPerItem)));
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
  for (let i = 0; i < n; i++) if (typeof a[i] !== "number") return null;
  return Float64Array.from(a as number[]);
}
