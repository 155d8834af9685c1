/**
 * A dependency's value as a worker keeps it (`Pristine`: deserialized from its snapshot once, and
 * never handed out), and the deep copies of it the worker installs, one for each call, so that
 * what one call's tasks change is not seen by the next call. Data deserialized with
 * `v8.deserialize` is copied (plain objects, arrays, Maps, Sets, Dates, RegExps, typed arrays,
 * ArrayBuffers, DataViews, Errors, boxed primitives), keeping shared references and cycles.
 *
 * It is much faster than structured clone (or deserializing again) for the common large case, an
 * array of numbers: the array is copied with `slice` (V8 copies its elements in one go), and as
 * the pristine value never changes, which of its arrays hold no objects is learnt on the first
 * copy, so later copies of those are just the slice. Named (non-index) properties of arrays are
 * copied for arrays of up to ARRAY_KEYS_LIMIT elements: finding them means listing every index as
 * a string, which for millions of elements costs more than everything else.
 */

const ARRAY_KEYS_LIMIT = 100_000;
const INDEX = /^(?:0|[1-9]\d*)$/;
const TYPED_ARRAY = Object.getPrototypeOf(Int8Array) as abstract new (...a: never[]) => ArrayBufferView;
const TYPED_SLICE = (TYPED_ARRAY.prototype as unknown as { slice(this: object): object }).slice;

type Copy = (v: unknown) => unknown;

export class Pristine<T = unknown> {
  /** Arrays of the value whose elements hold no objects and which have no named properties: their slice is their copy. */
  private readonly flat = new WeakSet<unknown[]>();

  /** `value` must not change from now on. */
  constructor(readonly value: T) {}

  /** A copy of the value that shares nothing with it. */
  copy(): T {
    const copies = new Map<object, object>();
    const toFill: [from: object, to: object][] = [];
    const copy: Copy = (v) => {
      if (v === null || typeof v !== "object") return v;
      const known = copies.get(v);
      if (known !== undefined) return known;
      const [made, fill] = shell(v);
      copies.set(v, made);
      if (fill && !(Array.isArray(v) && this.flat.has(v))) toFill.push([v, made]);
      return made;
    };
    const out = copy(this.value);
    // containers are filled from a list, not by recursion: deep data cannot overflow the stack
    for (let job = toFill.pop(); job !== undefined; job = toFill.pop()) {
      if (fill(job[0], job[1], copy) && Array.isArray(job[0])) this.flat.add(job[0]);
    }
    return out as T;
  }
}

/** A new object for `v`: complete for leaves, or an empty container to fill (second element true). */
function shell(v: object): [object, boolean] {
  if (Array.isArray(v)) return [v.slice(), true];
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return [{}, true];
  if (v instanceof Map) return [new Map(), true];
  if (v instanceof Set) return [new Set(), true];
  if (v instanceof Date) return [new Date(v.getTime()), false];
  if (v instanceof RegExp) return [new RegExp(v.source, v.flags), false];
  if (v instanceof ArrayBuffer) return [v.slice(0), false];
  // A view gets a buffer of its own holding just its bytes: data serialised by v8 (Node's
  // serializer stores each view's part of its buffer) has no views that share a buffer.
  if (v instanceof DataView) return [new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)), false];
  if (Buffer.isBuffer(v)) return [Buffer.from(v), false]; // (a Buffer's own slice() would share its memory)
  if (v instanceof TYPED_ARRAY) return [TYPED_SLICE.call(v), false];
  return [structuredClone(v), false]; // Errors, boxed primitives and anything else structured clone copies
}

/** Copies what `from` holds into `to`; true when `from` is an array whose slice is all of its copy. */
function fill(from: object, to: object, copy: Copy): boolean {
  if (Array.isArray(from)) {
    const out = to as unknown[];
    let flat = true;
    for (let i = 0; i < from.length; i++) {
      const x = from[i];
      if (x !== null && typeof x === "object") {
        out[i] = copy(x);
        flat = false;
      }
    }
    if (from.length <= ARRAY_KEYS_LIMIT) {
      for (const k of Object.keys(from)) {
        if (INDEX.test(k)) continue;
        (out as unknown as Record<string, unknown>)[k] = copy((from as unknown as Record<string, unknown>)[k]);
        flat = false;
      }
    }
    return flat;
  }
  if (from instanceof Map) {
    for (const [k, x] of from) (to as Map<unknown, unknown>).set(copy(k), copy(x));
  } else if (from instanceof Set) {
    for (const x of from) (to as Set<unknown>).add(copy(x));
  } else {
    for (const k of Object.keys(from)) (to as Record<string, unknown>)[k] = copy((from as Record<string, unknown>)[k]);
  }
  return false;
}
