/**
 * Value: one typed number in shared memory (like Python's multiprocessing.Value), with atomic
 * get/set/add/compareExchange and a Lock for compound updates:
 *   const hits = new Value("i32", 0);
 *   await hits.add(1);                                            // atomic
 *   await hits.lock.withLock(async () => hits.set((await hits.get()) * 2));   // compound
 * Where the memory is shared (main program, thread workers) `hits.value` reads/writes synchronously.
 */

import { registerHandleKind, type HandleCaller } from "../handles.js";
import { SyncUsageError } from "./errors.js";
import { ElementStore, checkElementType, type ElementType, type ElementValue } from "./elements.js";
import { Lock } from "./lock.js";
import { SharedPrimitive, canShareMemory, unknownMethod, type Revival } from "./shared.js";

export class Value<K extends ElementType = ElementType> extends SharedPrimitive {
  readonly type: K;
  /** Guards compound updates (read, compute, write) made of several calls. */
  readonly lock: Lock;
  readonly #store: ElementStore<K> | null;

  /**
   * @param type element type: "i8" "u8" "i16" "u16" "i32" "u32" "i64" "u64" (bigint) "f32" "f64"
   * @param initial starting value (0 by default)
   * @param revival internal: used when a Value arrives from another realm
   */
  constructor(type: K, initial?: ElementValue<K>, revival?: Revival) {
    const local = revival === undefined || canShareMemory(revival);
    super("Value", revival, local);
    if (revival === undefined) {
      this.type = checkElementType(type, "new Value(type)") as K;
      this.lock = new Lock();
      this.#store = new ElementStore(this.type, new SharedArrayBuffer(8), 0, 1);
      if (initial !== undefined) this.#store.store(0, this.#store.check(initial, "new Value(type, initial)"));
    } else {
      const extra = revival.descriptor.extra as { type: K; lock: Lock };
      this.type = extra.type;
      this.lock = extra.lock;
      this.#store = local ? new ElementStore(this.type, revival.descriptor.sab!, 0, 1) : null;
    }
  }

  protected handleKind(): string {
    return "Value";
  }
  protected override handleMemory(): SharedArrayBuffer {
    return this.#store!.view.buffer as unknown as SharedArrayBuffer;
  }
  protected override handleExtra(): unknown {
    return { type: this.type, lock: this.lock };
  }

  #shared(what: string): ElementStore<K> {
    if (this.#store === null) {
      throw new SyncUsageError(
        `Value.${what} needs shared memory, which process workers do not have; use await value.get() / value.set(x)`,
      );
    }
    return this.#store;
  }

  /** Synchronous access where the memory is shared (main program and thread workers). */
  get value(): ElementValue<K> {
    return this.#shared("value").load(0);
  }
  set value(v: ElementValue<K>) {
    const store = this.#shared("value");
    store.store(0, store.check(v, "Value.value ="));
  }

  async get(): Promise<ElementValue<K>> {
    if (this.#store === null) return (await this.callRemote("get", [])) as ElementValue<K>;
    return this.#store.load(0);
  }

  async set(v: ElementValue<K>): Promise<void> {
    if (this.#store === null) {
      await this.callRemote("set", [v]);
      return;
    }
    this.#store.store(0, this.#store.check(v, "Value.set"));
  }

  /** Adds `delta` atomically; resolves with the new value. */
  async add(delta: ElementValue<K>): Promise<ElementValue<K>> {
    if (this.#store === null) return (await this.callRemote("add", [delta])) as ElementValue<K>;
    return this.#store.add(0, this.#store.check(delta, "Value.add"));
  }

  /** Sets `replacement` if the value equals `expected`; resolves with the value found. */
  async compareExchange(expected: ElementValue<K>, replacement: ElementValue<K>): Promise<ElementValue<K>> {
    if (this.#store === null) return (await this.callRemote("compareExchange", [expected, replacement])) as ElementValue<K>;
    const s = this.#store;
    return s.compareExchange(0, s.check(expected, "Value.compareExchange"), s.check(replacement, "Value.compareExchange"));
  }

  /** Runs `fn` holding this value's lock. */
  withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.lock.withLock(fn);
  }

  protected serve(method: string, args: unknown[], _caller: HandleCaller): unknown {
    const s = this.#store!;
    switch (method) {
      case "get":
        return s.load(0);
      case "set":
        return s.store(0, s.check(args[0], "Value.set"));
      case "add":
        return s.add(0, s.check(args[0], "Value.add"));
      case "compareExchange":
        return s.compareExchange(0, s.check(args[0], "Value.compareExchange"), s.check(args[1], "Value.compareExchange"));
      default:
        return unknownMethod("Value", method);
    }
  }
}

registerHandleKind("Value", (d, env) => new Value("i32", undefined, { descriptor: d, env }));
