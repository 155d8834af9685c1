/**
 * SharedArray: a fixed-length typed array in shared memory (like Python's multiprocessing.Array),
 * with atomic per-element get/set/add/compareExchange and a Lock for compound updates. Where the
 * memory is shared (main program, thread workers) `arr.array` is the typed array itself.
 */

import { registerHandleKind, type HandleCaller } from "../handles.js";
import { SyncUsageError } from "./errors.js";
import { ELEMENT_TYPES, ElementStore, bytesPerElement, checkElementType, type ElementArray, type ElementType, type ElementValue } from "./elements.js";
import { Lock } from "./lock.js";
import { SharedPrimitive, canShareMemory, unknownMethod, type Revival } from "./shared.js";

export class SharedArray<K extends ElementType = ElementType> extends SharedPrimitive {
  readonly type: K;
  readonly length: number;
  /** Guards compound updates made of several calls. */
  readonly lock: Lock;
  readonly #store: ElementStore<K> | null;

  /**
   * @param type element type (see Value)
   * @param init a length (filled with zeros) or the initial elements
   * @param revival internal: used when a SharedArray arrives from another realm
   */
  constructor(type: K, init: number | ArrayLike<ElementValue<K>>, revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super("SharedArray", revival, local);
    if (revival === undefined) {
      this.type = checkElementType(type, "new SharedArray(type)") as K;
      const length = typeof init === "number" ? init : init?.length;
      if (typeof length !== "number" || !Number.isInteger(length) || length < 0) {
        throw new TypeError("new SharedArray(type, init): init must be a length (integer >= 0) or an array of initial values");
      }
      this.length = length;
      this.lock = new Lock();
      const bytes = Math.max(8, length * bytesPerElement(this.type));
      this.#store = new ElementStore(this.type, new SharedArrayBuffer(bytes), 0, length);
      if (typeof init !== "number") {
        for (let i = 0; i < length; i++) this.#store.check(init[i], `new SharedArray: element ${i}`);
        (this.#store.view as unknown as { set(a: ArrayLike<unknown>): void }).set(init);
      }
    } else {
      const extra = revival.descriptor.extra as { type: K; length: number; lock: Lock };
      this.type = extra.type;
      this.length = extra.length;
      this.lock = extra.lock;
      this.#store = local ? new ElementStore(this.type, revival.descriptor.sab!, 0, this.length) : null;
    }
  }

  protected handleKind(): string {
    return "SharedArray";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#store!.view.buffer as unknown as SharedArrayBuffer;
  }
  protected override handleExtra(): unknown {
    return { type: this.type, length: this.length, lock: this.lock };
  }

  /**
   * The typed array itself, over the shared memory (main program and thread workers only):
   * plain reads and writes, or Atomics on it for integer types.
   */
  get array(): ElementArray<K> {
    if (this.#store === null) {
      throw new SyncUsageError(
        "SharedArray.array needs shared memory, which process workers do not have; " +
          "use await arr.get(i) / arr.set(i, x) / arr.toArray() / arr.write(values)",
      );
    }
    return this.#store.view;
  }

  async get(i: number): Promise<ElementValue<K>> {
    if (this.#store === null) return (await this.callRemote("get", [i])) as ElementValue<K>;
    return this.#store.load(this.#store.index(i, "SharedArray.get"));
  }

  async set(i: number, v: ElementValue<K>): Promise<void> {
    if (this.#store === null) {
      await this.callRemote("set", [i, v]);
      return;
    }
    const s = this.#store;
    s.store(s.index(i, "SharedArray.set"), s.check(v, "SharedArray.set"));
  }

  /** Adds `delta` to element `i` atomically; resolves with its new value. */
  async add(i: number, delta: ElementValue<K>): Promise<ElementValue<K>> {
    if (this.#store === null) return (await this.callRemote("add", [i, delta])) as ElementValue<K>;
    const s = this.#store;
    return s.add(s.index(i, "SharedArray.add"), s.check(delta, "SharedArray.add"));
  }

  async compareExchange(i: number, expected: ElementValue<K>, replacement: ElementValue<K>): Promise<ElementValue<K>> {
    if (this.#store === null) return (await this.callRemote("compareExchange", [i, expected, replacement])) as ElementValue<K>;
    const s = this.#store;
    return s.compareExchange(s.index(i, "SharedArray.compareExchange"), s.check(expected, "compareExchange"), s.check(replacement, "compareExchange"));
  }

  /** A private copy of the current elements. */
  async toArray(): Promise<ElementArray<K>> {
    if (this.#store === null) {
      const items = (await this.callRemote("toArray", [])) as never[];
      return new ELEMENT_TYPES[this.type](items) as ElementArray<K>;
    }
    return this.#store.view.slice() as ElementArray<K>;
  }

  /** Copies `values` into the array starting at `offset`. */
  async write(values: ArrayLike<ElementValue<K>>, offset = 0): Promise<void> {
    if (this.#store === null) {
      await this.callRemote("write", [Array.from(values as ArrayLike<unknown>), offset]);
      return;
    }
    this.#write(values, offset);
  }

  #write(values: ArrayLike<unknown>, offset: unknown): void {
    const s = this.#store!;
    if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0 || offset + values.length > this.length) {
      throw new RangeError(`SharedArray.write: ${values.length} values at offset ${String(offset)} do not fit in length ${this.length}`);
    }
    for (let i = 0; i < values.length; i++) s.store(offset + i, s.check(values[i], `SharedArray.write: value ${i}`));
  }

  withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.lock.withLock(fn);
  }

  protected serve(method: string, args: unknown[], _caller: HandleCaller): unknown {
    const s = this.#store!;
    switch (method) {
      case "get":
        return s.load(s.index(args[0], "SharedArray.get"));
      case "set":
        return s.store(s.index(args[0], "SharedArray.set"), s.check(args[1], "SharedArray.set"));
      case "add":
        return s.add(s.index(args[0], "SharedArray.add"), s.check(args[1], "SharedArray.add"));
      case "compareExchange":
        return s.compareExchange(s.index(args[0], "SharedArray.compareExchange"), s.check(args[1], "compareExchange"), s.check(args[2], "compareExchange"));
      case "toArray":
        return Array.from(s.view as ArrayLike<unknown>);
      case "write":
        return this.#write(args[0] as unknown[], args[1]);
      default:
        return unknownMethod("SharedArray", method);
    }
  }
}

registerHandleKind("SharedArray", (d, env) => new SharedArray("i32", 0, { descriptor: d, env }));
