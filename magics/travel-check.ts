/**
 * Decides whether a value can be copied to a worker as a snapshot (structured clone, plus the
 * farm's transferable handles), and if not, says precisely where and why, e.g.
 * "`conn` cannot travel to the workers: .socket is a live handle (Socket) ...".
 */
import { EventEmitter } from "node:events";
import { MessagePort } from "node:worker_threads";

const HANDLE = Symbol.for("tspool.handle");

export interface TravelProblem {
  path: string; // "" for the value itself, ".a[3].b" inside it
  why: string;
}

const CLONEABLE_CLASSES: Function[] = [
  Date, RegExp, ArrayBuffer, DataView, Error, Boolean, Number, String, BigInt,
];
const TYPED_ARRAY = Object.getPrototypeOf(Int8Array) as Function;
const WEAK_REF = (globalThis as { WeakRef?: Function }).WeakRef;

function describeClass(v: object): string {
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  return ctor?.name || "an object with a custom prototype";
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null && proto.constructor?.name === "Object";
}

/** A value met in the walk, and how it was reached (its path is spelled out only for a problem). */
interface Step {
  v: unknown;
  from: Step | null;
  /** From its container: a key, an index, or a Map/Set position spelled as in messages. */
  via: string | number;
}

function pathOf(step: Step): string {
  const parts: string[] = [];
  for (let s: Step | null = step; s !== null && s.from !== null; s = s.from) {
    const via = s.via;
    parts.push(typeof via === "number" ? `[${via}]` : via);
  }
  return parts.reverse().join("");
}

function keyStep(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/** Whether a primitive (or function) inside a value can be copied: only symbols and functions cannot. */
function primitiveProblem(v: unknown): string | undefined {
  const t = typeof v;
  if (t === "symbol") return "is a Symbol, which cannot be copied";
  if (t === "function") {
    const name = (v as Function).name;
    return `is a function${name ? ` (${name})` : ""}; data sent to workers cannot hold functions — define the function in a cell with \`function\` and refer to it by name instead`;
  }
  return undefined;
}

export interface TravelOptions {
  /** Class instances inside the value that the receiver gives their prototypes back (see instance-paths.ts). */
  restored?: ReadonlySet<object>;
  /** The receivers are threads, which share memory with the sender; process workers would get a copy. */
  sharedMemory?: boolean;
  /** Objects walked at most (beyond, structured clone itself reports problems). */
  limit?: number;
}

const SHARED_MEMORY_ADVICE = "which process workers cannot share: each would get its own copy, so what they change (e.g. with Atomics) " +
  "would not be seen by the kernel or the other workers. Use a SharedArray or a Value from \"tspool\" (shared with process workers too), " +
  "or start thread workers, which share it: `%pool start --threads`";

function sharedBuffer(o: object): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  return o instanceof SharedArrayBuffer || (ArrayBuffer.isView(o) && o.buffer instanceof SharedArrayBuffer);
}

/**
 * The first reason the value cannot travel, or undefined when it can. Containers are walked
 * without building paths: a path is spelled out only for the problem found, so a large array of
 * numbers costs one pass over its elements.
 */
export function findTravelProblem(value: unknown, opts: TravelOptions = {}): TravelProblem | undefined {
  const { restored, sharedMemory = false, limit = 2_000_000 } = opts;
  const seen = new Set<object>();
  let budget = limit;
  const stack: Step[] = [{ v: value, from: null, via: "" }];
  // A container's contents in order: primitives are checked on the spot, objects are walked
  // later, first ones first (they are pushed in reverse when the container is done).
  let kids: Step[] = [];
  const visit = (v: unknown, from: Step, via: string | number): TravelProblem | undefined => {
    if (v !== null && typeof v === "object") {
      kids.push({ v, from, via });
      return undefined;
    }
    const why = primitiveProblem(v);
    return why === undefined ? undefined : { path: pathOf({ v, from, via }), why };
  };
  const walkKids = () => {
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
    kids = [];
  };
  for (;;) {
    walkKids();
    const step = stack.pop();
    if (step === undefined) return undefined;
    const v = step.v;
    if (v === null || typeof v !== "object") {
      const why = primitiveProblem(v);
      if (why !== undefined) return { path: pathOf(step), why };
      continue;
    }
    if (--budget < 0) return undefined; // very large data: structured clone itself will report problems
    const o = v as object;
    if (seen.has(o)) continue;
    seen.add(o);
    const here = () => pathOf(step);
    if (typeof (o as Record<symbol, unknown>)[HANDLE] === "function") continue; // a farm handle (Lock, Queue, ...)
    if (o instanceof Promise) return { path: here(), why: "is a Promise; `await` it in a cell and use its value" };
    if (o instanceof WeakMap || o instanceof WeakSet || (WEAK_REF !== undefined && o instanceof WEAK_REF)) {
      return { path: here(), why: `is a ${describeClass(o)}, which cannot be copied` };
    }
    if (o instanceof EventEmitter || o instanceof MessagePort) {
      return { path: here(), why: `is a live handle (${describeClass(o)}) tied to this process; open it inside the mapped function instead` };
    }
    if (!sharedMemory && sharedBuffer(o)) {
      return { path: here(), why: `is shared memory (${o instanceof SharedArrayBuffer ? "a SharedArrayBuffer" : `${/^[AEIOU]/.test(describeClass(o)) ? "an" : "a"} ${describeClass(o)} on a SharedArrayBuffer`}), ${SHARED_MEMORY_ADVICE}` };
    }
    if (o instanceof TYPED_ARRAY || o instanceof SharedArrayBuffer || CLONEABLE_CLASSES.some((c) => o instanceof c)) continue;
    if (typeof Blob !== "undefined" && o instanceof Blob) {
      return {
        path: here(),
        why: `is a ${describeClass(o)}, whose contents can only be read asynchronously, so it cannot be copied to a worker; ` +
          "read it in a cell first (e.g. `const bytes = new Uint8Array(await blob.arrayBuffer())`) and use the bytes",
      };
    }
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) {
        const problem = visit(o[i], step, i);
        if (problem) return problem;
      }
      continue;
    }
    if (o instanceof Map) {
      let i = 0;
      for (const [k, val] of o) {
        const problem = visit(k, step, `.<key ${i}>`) ?? visit(val, step, `.get(${i})`);
        if (problem) return problem;
        i++;
      }
      continue;
    }
    if (o instanceof Set) {
      let i = 0;
      for (const val of o) {
        const problem = visit(val, step, `.<element ${i++}>`);
        if (problem) return problem;
      }
      continue;
    }
    if (!isPlainObject(o) && !restored?.has(o)) {
      return {
        path: here(),
        why: `is an instance of ${describeClass(o)}, which would arrive as a plain object without its methods (instances of classes from earlier cells get their class back); send plain data (e.g. \`{ ...obj }\`) or create the instance inside the mapped function`,
      };
    }
    for (const k of Object.keys(o)) {
      const desc = Object.getOwnPropertyDescriptor(o, k);
      if (desc && (desc.get || desc.set)) return { path: here() + keyStep(k), why: "is a getter/setter property, which cannot be copied" };
      const problem = visit((o as Record<string, unknown>)[k], step, keyStep(k));
      if (problem) return problem;
    }
  }
}
