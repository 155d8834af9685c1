/**
 * Transferable handles: objects (locks, queues, shared values, ...) that can be passed to farm
 * workers inside task arguments, pushed bindings, dependency values and results, and that keep
 * referring to the *same* object on the other side.
 *
 * How it works
 * - An object is a handle when it has a `[HANDLE]()` method returning a `HandleDescriptor`
 *   (kind, id, the realm it was created in, optionally a SharedArrayBuffer holding its state and
 *   kind-specific `extra` data).
 * - Before a value crosses to or from a worker, the sender calls `encodeHandles(value)`: every
 *   handle found in arrays, plain objects, Maps and Sets is replaced by a plain marker object
 *   `{ "__tspool_handle__": descriptor }`. Everything else is left as it is (and untouched
 *   containers are not copied), so the result can go through `postMessage`, `process.send`
 *   (advanced serialization) or JSON.
 * - The receiver calls `decodeHandles(value, env)`: markers become live objects again, through the
 *   reviver registered for their kind with `registerHandleKind`. A descriptor that comes back to
 *   the realm that created it resolves to the original object (identity is preserved), and the
 *   same descriptor decoded twice in one realm gives the same object.
 * - `extra` may itself contain handles (a Condition carries its Lock); they are encoded and
 *   decoded along with the descriptor.
 * - State lives in the realm that created (exposed) the handle, normally the parent. Thread
 *   workers that receive the SharedArrayBuffer operate on it directly with Atomics; process
 *   workers (and thread workers sent a descriptor without memory) call
 *   `env.call(kind, id, method, args)`, which the farm routes to `serveHandleCall` in the parent.
 *
 * Rules for the transport (farm-core)
 * - `encodeHandles(value)` leaves SharedArrayBuffers OUT of descriptors (v8 serialization and
 *   JSON cannot carry them between processes). For a thread worker pass
 *   `encodeHandles(value, { sharedMemory: true })`, so the worker gets the shared memory and runs
 *   the fast Atomics path instead of calling the parent.
 * - In a worker, pass that worker's `WorkerEnv` to `decodeHandles`; in the parent pass `null`.
 * - `serveHandleCall(kind, id, method, args, caller)` decodes `args` and encodes its result itself
 *   (for threads when `caller.isThread`); send the result back as it is. If the call fails, the
 *   promise rejects with an Error to forward to the worker. Pass `caller.signal` and abort it when
 *   the calling worker dies, so that a blocked `acquire`/`get` made on its behalf is withdrawn
 *   instead of taking a lock or an item for a worker that no longer exists.
 * - Optionally give the worker's env a `jobSignal()` returning the running job's AbortSignal
 *   (aborted on interrupt/cancel): waits the job started are then withdrawn when it is stopped.
 * - `decodeHandles` throws for a kind nobody registered (the defining module was not loaded):
 *   catch it where a message is decoded and fail that one job, not the whole pool.
 */

import { randomBytes } from "node:crypto";
import { threadId } from "node:worker_threads";

export const HANDLE: unique symbol = Symbol.for("tspool.handle") as any;

export interface HandleDescriptor {
  kind: string;
  id: number;
  /** The realm (process/thread) that exposed the handle and serves calls on it. */
  origin?: string;
  sab?: SharedArrayBuffer;
  extra?: unknown;
  /**
   * Set when this realm serves shared memory that another realm created (a thread worker's
   * primitive returned to the parent): where it came from, so it resolves to the original there.
   */
  home?: { origin: string; id: number };
}

/** Provided by farm-core inside each worker. */
export interface WorkerEnv {
  isThread: boolean;
  workerId: number;
  /** Reaches the parent's `serveHandleCall` and resolves with its (encoded) result. */
  call(kind: string, id: number, method: string, args: unknown[]): Promise<unknown>;
  /**
   * Optional: the AbortSignal of the job running now, aborted when it is interrupted or
   * cancelled. Blocking operations (acquire, get, wait, ...) that the job started give up when it
   * aborts, so an interrupted task does not take a lock or an item after it was stopped.
   */
  jobSignal?(): AbortSignal | undefined;
}

/** Who is calling `serveHandleCall`. */
export interface HandleCaller {
  workerId: number;
  /** The caller is a thread worker (the result may then carry shared memory). */
  isThread?: boolean;
  /** Aborted by the farm when the calling worker goes away: pending blocking calls give up. */
  signal?: AbortSignal;
}

export interface Handle {
  [HANDLE](): HandleDescriptor;
}

/** Executes a method call that a worker made on a handle exposed by this realm. */
export type HandleServer = (method: string, args: unknown[], caller: HandleCaller) => unknown;

export type HandleReviver = (d: HandleDescriptor, env: WorkerEnv | null) => object;

const MARKER = "__tspool_handle__";

/** Identifies this process + thread; descriptors carry it so they can find their way home. */
export const localOrigin: string = `${process.pid}.${threadId}.${randomBytes(4).toString("hex")}`;

const revivers = new Map<string, HandleReviver>();

interface Exposed { kind: string; target: object; serve: HandleServer; descriptor: HandleDescriptor }
const exposed = new Map<number, Exposed>();
let nextId = 1;

/** Objects revived from foreign descriptors, so the same descriptor gives the same object. */
const revived = new Map<string, WeakRef<object>>();
const forgetRevived = new FinalizationRegistry<string>((key) => {
  const ref = revived.get(key);
  if (ref !== undefined && ref.deref() === undefined) revived.delete(key);
});

export function isHandle(value: unknown): value is Handle {
  return typeof value === "object" && value !== null && typeof (value as any)[HANDLE] === "function";
}

/** Tells the decoder how to rebuild handles of `kind` (call once per kind, at module load). */
export function registerHandleKind(kind: string, revive: HandleReviver): void {
  revivers.set(kind, revive);
}

/**
 * Makes `target` reachable from workers: calls they make on it are executed by `serve`.
 * Returns the descriptor that `target[HANDLE]()` should return from then on. The target stays
 * alive as long as it is exposed (workers may hold it); `withdrawHandle` ends that.
 */
export function exposeHandle(
  kind: string,
  target: object,
  serve: HandleServer,
  opts: { sab?: SharedArrayBuffer; extra?: unknown; home?: { origin: string; id: number } } = {},
): HandleDescriptor {
  const id = nextId++;
  const descriptor: HandleDescriptor = { kind, id, origin: localOrigin };
  if (opts.home !== undefined) descriptor.home = opts.home;
  if (opts.sab !== undefined) descriptor.sab = opts.sab;
  if (opts.extra !== undefined) descriptor.extra = opts.extra;
  exposed.set(id, { kind, target, serve, descriptor });
  return descriptor;
}

/** Stops serving a handle; workers still holding it get an error when they use it. */
export function withdrawHandle(d: HandleDescriptor): void {
  if (d.origin === undefined || d.origin === localOrigin) exposed.delete(d.id);
}

/** Number of handles this realm currently serves (for tests and diagnostics). */
export function exposedHandleCount(): number {
  return exposed.size;
}

function describe(handle: Handle, sharedMemory: boolean): HandleDescriptor {
  const d = handle[HANDLE]();
  if (typeof d !== "object" || d === null || typeof d.kind !== "string" || typeof d.id !== "number") {
    throw new TypeError("a [HANDLE]() method returned something that is not a HandleDescriptor");
  }
  const out: HandleDescriptor = { kind: d.kind, id: d.id, origin: d.origin ?? localOrigin };
  if (sharedMemory && d.sab !== undefined) out.sab = d.sab;
  if (d.home !== undefined) out.home = { origin: d.home.origin, id: d.home.id };
  if (d.extra !== undefined) out.extra = encodeHandles(d.extra, { sharedMemory }); // may hold handles too
  return out;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * How many levels of arrays, plain objects, Maps and Sets a value sent to a worker may have. A
 * process worker reads its messages on a stack that holds about 2,000 levels of objects; past
 * that it cannot read the message at all, so deeper values are refused here with a clear error.
 */
export const MAX_SEND_DEPTH = 1000;

/** One step into a value: an array index, an object key, or the n-th entry of a Map or member of a Set. */
export type PathStep = number | string | { map: number } | { set: number };

/** A value that cannot be sent to another realm; `path` says where inside it the problem is. */
export class UnsendableValueError extends TypeError {
  override name = "TypeError";
  /** From the value given to encodeHandles down to the part that failed (empty: the value itself). */
  readonly path: PathStep[] = [];
  constructor(readonly reason: string, cause?: unknown) {
    super(`cannot send this value: ${reason}`, cause === undefined ? undefined : { cause });
  }

  /** Whether the value is nested too deeply (its path is then as long as its depth, and of no use to show). */
  get tooDeep(): boolean { return this.reason === TOO_DEEP; }

  /** The path as code would write it (`[0].b<Map entry 2>`), shortened when very long. */
  where(from = 0): string {
    const steps = this.path.slice(from);
    const shown = steps.slice(0, 12).map((k) => typeof k === "number" ? `[${k}]`
      : typeof k === "string" ? (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)
        : "map" in k ? `<Map entry ${k.map}>` : `<Set member ${k.set}>`);
    return shown.join("") + (steps.length > 12 ? "..." : "");
  }
}

const TOO_DEEP = `it is nested too deeply (more than ${MAX_SEND_DEPTH} levels of arrays, objects, Maps and Sets)`;
const SHARED_TO_PROCESS = "a SharedArrayBuffer cannot be shared with a process worker (it would be copied, and neither side " +
  "would see the other's changes): use a tspool SharedArray or Value, or a pool with threads: true";

export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** An error's message without its final full stop(s), to go inside a sentence. */
export function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\.+$/, "");
}

/** Where an exception met while encoding came from, as an UnsendableValueError. */
function unsendable(e: unknown, at: PathStep | undefined, reading: string): UnsendableValueError {
  let err: UnsendableValueError;
  if (e instanceof UnsendableValueError) err = e;
  else if (isStackOverflow(e)) err = new UnsendableValueError(TOO_DEEP);
  else err = new UnsendableValueError(`${reading} threw: ${messageOf(e)}`, e);
  if (at !== undefined) err.path.unshift(at);
  return err;
}

interface TransformOptions {
  /** Encoding for another realm: depth is limited and failures become UnsendableValueErrors. */
  encoding: boolean;
  /** Called for every buffer and typed array met (encoding for a process refuses shared memory). */
  buffer?: (v: ArrayBuffer | SharedArrayBuffer | ArrayBufferView) => void;
}

/** Maps `leaf` over a structured-clone-like tree, copying only containers whose content changed. */
function transform(value: unknown, leaf: (v: object) => unknown | typeof UNCHANGED, opts: TransformOptions): unknown {
  const seen = new Map<object, unknown>();
  const { encoding, buffer } = opts;
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) {
      buffer?.(v);
      return v;
    }
    const replaced = leaf(v);
    if (replaced !== UNCHANGED) return replaced;
    if (seen.has(v)) return seen.get(v);
    if (encoding && depth >= MAX_SEND_DEPTH) throw new UnsendableValueError(TOO_DEEP);
    // where in `v` the walk is, and what it did there, for an error (see unsendable)
    let at: PathStep | undefined;
    let reading = "a getter";
    try {
      if (Array.isArray(v)) {
        seen.set(v, v);
        let out: unknown[] | null = null;
        for (let i = 0; i < v.length; i++) {
          at = i;
          const item = v[i];
          if (typeof item !== "object" || item === null) continue;
          const w = walk(item, depth + 1);
          if (w !== item) {
            if (out === null) { out = v.slice(); seen.set(v, out); }
            out[i] = w;
          }
        }
        return out ?? v;
      }
      if (v instanceof Map) {
        seen.set(v, v);
        reading = "iterating a Map";
        let changed = false;
        const entries: [unknown, unknown][] = [];
        let n = 0;
        for (const [k, x] of v) {
          at = { map: n++ };
          const wk = walk(k, depth + 1), wx = walk(x, depth + 1);
          if (wk !== k || wx !== x) changed = true;
          entries.push([wk, wx]);
        }
        if (!changed) return v;
        const out = new Map(entries);
        seen.set(v, out);
        return out;
      }
      if (v instanceof Set) {
        seen.set(v, v);
        reading = "iterating a Set";
        let changed = false;
        const items: unknown[] = [];
        let n = 0;
        for (const x of v) {
          at = { set: n++ };
          const wx = walk(x, depth + 1);
          if (wx !== x) changed = true;
          items.push(wx);
        }
        if (!changed) return v;
        const out = new Set(items);
        seen.set(v, out);
        return out;
      }
      if (isPlainObject(v)) {
        seen.set(v, v);
        let out: Record<string, unknown> | null = null;
        reading = "listing its keys";
        for (const key of Object.keys(v)) {
          at = key;
          reading = "a getter";
          const item = (v as Record<string, unknown>)[key];
          if (typeof item !== "object" || item === null) continue;
          const w = walk(item, depth + 1);
          if (w !== item) {
            if (out === null) { out = { ...(v as Record<string, unknown>) }; seen.set(v, out); }
            out[key] = w;
          }
        }
        return out ?? v;
      }
    } catch (e) {
      if (!encoding) throw e;
      throw unsendable(e, at, reading);
    }
    return v; // class instances, Dates, Errors, ...: left to structured clone
  };
  if (!encoding) return walk(value, 0);
  try {
    return walk(value, 0);
  } catch (e) {
    throw unsendable(e, undefined, "reading it");
  }
}
const UNCHANGED = Symbol("unchanged");

function refuseSharedMemory(v: ArrayBuffer | SharedArrayBuffer | ArrayBufferView): void {
  const buf = ArrayBuffer.isView(v) ? v.buffer : v;
  if (buf instanceof SharedArrayBuffer) throw new UnsendableValueError(SHARED_TO_PROCESS);
}

/**
 * Replaces every handle inside `value` by a plain marker carrying its descriptor.
 * `sharedMemory: true` keeps SharedArrayBuffers in descriptors: only for thread workers.
 * `toProcess: true`: the value goes to another process, where a SharedArrayBuffer would arrive
 * as a copy, so one (or a typed array over one) is refused instead.
 *
 * Throws an UnsendableValueError (a TypeError) when the value cannot be sent: nested deeper than
 * MAX_SEND_DEPTH, a getter that throws, a handle that cannot describe itself, shared memory for a
 * process; its `path` says where.
 */
export function encodeHandles(value: unknown, opts: { sharedMemory?: boolean; toProcess?: boolean } = {}): unknown {
  const shared = opts.sharedMemory === true;
  const mark = (v: Handle) => {
    try {
      return { [MARKER]: describe(v, shared) };
    } catch (e) {
      throw e instanceof UnsendableValueError ? e : new UnsendableValueError(`a handle could not describe itself: ${messageOf(e)}`, e);
    }
  };
  if (isHandle(value)) return mark(value);
  return transform(value, (v) => (isHandle(v) ? mark(v) : UNCHANGED), {
    encoding: true,
    buffer: opts.toProcess === true ? refuseSharedMemory : undefined,
  });
}

function asMarker(v: object): HandleDescriptor | null {
  if (!isPlainObject(v)) return null;
  const d = (v as Record<string, unknown>)[MARKER];
  if (typeof d !== "object" || d === null) return null;
  const keys = Object.keys(v);
  if (keys.length !== 1) return null;
  const desc = d as HandleDescriptor;
  if (typeof desc.kind !== "string" || typeof desc.id !== "number") return null;
  return desc;
}

function revive(d: HandleDescriptor, env: WorkerEnv | null): object {
  const origin = d.origin ?? "";
  if (origin === localOrigin) {
    const entry = exposed.get(d.id);
    if (entry === undefined) {
      throw new Error(`a ${d.kind} handle (id ${d.id}) came back after it was withdrawn; it can no longer be used`);
    }
    return entry.target;
  }
  if (d.home !== undefined && d.home.origin === localOrigin) {
    const entry = exposed.get(d.home.id);
    if (entry !== undefined) return entry.target; // our own primitive, back from a realm that adopted it
  }
  const key = `${origin}#${d.id}`;
  const known = revived.get(key)?.deref();
  if (known !== undefined) return known;
  const reviver = revivers.get(d.kind);
  if (reviver === undefined) {
    throw new Error(
      `received a handle of unknown kind "${d.kind}": the module defining it was not loaded on this side ` +
        `(import "tspool" or the module that defines it in the worker)`,
    );
  }
  const extra = d.extra === undefined ? undefined : decodeHandles(d.extra, env);
  const obj = reviver(extra === undefined ? d : { ...d, extra }, env);
  revived.set(key, new WeakRef(obj));
  forgetRevived.register(obj, key);
  return obj;
}

/** Turns markers made by `encodeHandles` back into live objects. `env` is null in the parent. */
export function decodeHandles(value: unknown, env: WorkerEnv | null): unknown {
  if (typeof value !== "object" || value === null) return value;
  return transform(value, (v) => {
    const d = asMarker(v);
    return d === null ? UNCHANGED : revive(d, env);
  }, { encoding: false });
}

/** Parent side: executes `method` on the exposed handle `id` for a worker and returns the encoded result. */
export async function serveHandleCall(
  kind: string,
  id: number,
  method: string,
  args: unknown[],
  caller: HandleCaller,
): Promise<unknown> {
  const entry = exposed.get(id);
  if (entry === undefined) {
    throw new Error(`no ${kind} with handle id ${id} is served here (it was withdrawn, or created in another process)`);
  }
  if (entry.kind !== kind) {
    throw new Error(`handle id ${id} is a ${entry.kind}, not a ${kind}`);
  }
  const decoded = decodeHandles(Array.isArray(args) ? args : [], null) as unknown[];
  const result = await entry.serve(method, decoded, caller);
  return encodeHandles(result, { sharedMemory: caller.isThread === true });
}

/** Worker side helper: calls methods of a handle served by another realm through `env.call`. */
export class RemoteHandle {
  constructor(
    readonly descriptor: HandleDescriptor,
    private readonly env: WorkerEnv,
  ) {}

  async call(method: string, args: unknown[] = []): Promise<unknown> {
    const result = await this.env.call(this.descriptor.kind, this.descriptor.id, method, encodeHandles(args) as unknown[]);
    return decodeHandles(result, this.env);
  }
}
