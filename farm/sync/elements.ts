/**
 * Typed elements in shared memory with atomic operations for every type, floats included:
 * integer types use Atomics directly; f32/f64 go through same-size integer views of their bits
 * (compare-exchange loops for add), so reads never tear and adds are never lost.
 */

export const ELEMENT_TYPES = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

export type ElementType = keyof typeof ELEMENT_TYPES;
/** JavaScript type of an element: bigint for 64-bit integers, number otherwise. */
export type ElementValue<K extends ElementType> = K extends "i64" | "u64" ? bigint : number;
export type ElementArray<K extends ElementType> = InstanceType<(typeof ELEMENT_TYPES)[K]>;

export function checkElementType(type: unknown, what: string): ElementType {
  if (typeof type !== "string" || !Object.hasOwn(ELEMENT_TYPES, type)) {
    throw new TypeError(`${what}: unknown element type ${JSON.stringify(type)}; use one of ${Object.keys(ELEMENT_TYPES).join(", ")}`);
  }
  return type as ElementType;
}

export function bytesPerElement(type: ElementType): number {
  return ELEMENT_TYPES[type].BYTES_PER_ELEMENT;
}

const f64 = new Float64Array(1);
const f64bits = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1);
const f32bits = new Int32Array(f32.buffer);

type Bits = Int32Array | BigInt64Array;

/** Atomic access to the elements of one SharedArrayBuffer region. */
export class ElementStore<K extends ElementType> {
  readonly view: ElementArray<K>;
  readonly #ints: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | null;
  readonly #bits: Bits | null;
  readonly #big: boolean;

  constructor(
    readonly type: K,
    sab: SharedArrayBuffer,
    byteOffset: number,
    readonly length: number,
  ) {
    this.view = new (ELEMENT_TYPES[type] as unknown as new (b: ArrayBufferLike, o: number, n: number) => ElementArray<K>)(sab, byteOffset, length);
    this.#big = type === "i64" || type === "u64";
    if (type === "f64") {
      this.#ints = null;
      this.#bits = new BigInt64Array(sab, byteOffset, length);
    } else if (type === "f32") {
      this.#ints = null;
      this.#bits = new Int32Array(sab, byteOffset, length);
    } else {
      this.#ints = this.view as never;
      this.#bits = null;
    }
  }

  check(value: unknown, what: string): ElementValue<K> {
    if (this.#big ? typeof value !== "bigint" : typeof value !== "number") {
      throw new TypeError(`${what}: a ${this.type} element takes a ${this.#big ? "bigint (e.g. 1n)" : "number"}, got ${typeof value}`);
    }
    return value as ElementValue<K>;
  }

  index(i: unknown, what: string): number {
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`${what}: index ${String(i)} is outside 0..${this.length - 1}`);
    }
    return i;
  }

  #fromBits(bits: number | bigint): number {
    if (this.type === "f64") {
      f64bits[0] = bits as bigint;
      return f64[0]!;
    }
    f32bits[0] = bits as number;
    return f32[0]!;
  }
  #toBits(value: number): number | bigint {
    if (this.type === "f64") {
      f64[0] = value;
      return f64bits[0]!;
    }
    f32[0] = value;
    return f32bits[0]!;
  }

  load(i: number): ElementValue<K> {
    if (this.#ints !== null) return Atomics.load(this.#ints as Int32Array, i) as ElementValue<K>;
    return this.#fromBits(Atomics.load(this.#bits as Int32Array, i)) as ElementValue<K>;
  }

  store(i: number, value: ElementValue<K>): void {
    if (this.#ints !== null) Atomics.store(this.#ints as Int32Array, i, value as number);
    else Atomics.store(this.#bits as Int32Array, i, this.#toBits(value as number) as number);
  }

  /** Adds atomically and returns the element's new value. */
  add(i: number, delta: ElementValue<K>): ElementValue<K> {
    if (this.#ints !== null) {
      Atomics.add(this.#ints as Int32Array, i, delta as number);
      return Atomics.load(this.#ints as Int32Array, i) as ElementValue<K>;
    }
    const bits = this.#bits as Int32Array;
    for (;;) {
      const old = Atomics.load(bits, i);
      const next = this.#fromBits(old) + (delta as number);
      const nextBits = this.#toBits(next) as number;
      if (Atomics.compareExchange(bits, i, old, nextBits) === old) return this.#fromBits(nextBits) as ElementValue<K>;
    }
  }

  /** Stores `replacement` if the element equals `expected` (bitwise for floats); returns the old value. */
  compareExchange(i: number, expected: ElementValue<K>, replacement: ElementValue<K>): ElementValue<K> {
    if (this.#ints !== null) {
      return Atomics.compareExchange(this.#ints as Int32Array, i, expected as number, replacement as number) as ElementValue<K>;
    }
    const bits = this.#bits as Int32Array;
    const old = Atomics.compareExchange(bits, i, this.#toBits(expected as number) as number, this.#toBits(replacement as number) as number);
    return this.#fromBits(old) as ElementValue<K>;
  }

  /** Stores `value` and returns the previous value. */
  exchange(i: number, value: ElementValue<K>): ElementValue<K> {
    if (this.#ints !== null) return Atomics.exchange(this.#ints as Int32Array, i, value as number) as ElementValue<K>;
    return this.#fromBits(Atomics.exchange(this.#bits as Int32Array, i, this.#toBits(value as number) as number)) as ElementValue<K>;
  }
}
