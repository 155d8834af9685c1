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

/**
 * The first reason the value cannot travel, or undefined when it can. `restored`: class
 * instances inside it that the receiver gives their prototypes back (see instance-paths.ts).
 */
export function findTravelProblem(value: unknown, limit = 2_000_000, restored?: ReadonlySet<object>): TravelProblem | undefined {
  const seen = new Set<object>();
  let budget = limit;
  const stack: { v: unknown; path: string }[] = [{ v: value, path: "" }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (--budget < 0) return undefined; // very large data: structured clone itself will report problems
    if (v === null || v === undefined) continue;
    const t = typeof v;
    if (t === "symbol") return { path, why: "is a Symbol, which cannot be copied" };
    if (t === "function") {
      const name = (v as Function).name;
      return { path, why: `is a function${name ? ` (${name})` : ""}; data sent to workers cannot hold functions — define the function in a cell with \`function\` and refer to it by name instead` };
    }
    if (t !== "object") continue;
    const o = v as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (typeof (o as Record<symbol, unknown>)[HANDLE] === "function") continue; // a farm handle (Lock, Queue, ...)
    if (o instanceof Promise) return { path, why: "is a Promise; `await` it in a cell and use its value" };
    if (o instanceof WeakMap || o instanceof WeakSet || (WEAK_REF !== undefined && o instanceof WEAK_REF)) {
      return { path, why: `is a ${describeClass(o)}, which cannot be copied` };
    }
    if (o instanceof EventEmitter || o instanceof MessagePort) {
      return { path, why: `is a live handle (${describeClass(o)}) tied to this process; open it inside the mapped function instead` };
    }
    if (o instanceof TYPED_ARRAY || o instanceof SharedArrayBuffer || CLONEABLE_CLASSES.some((c) => o instanceof c)) continue;
    if (typeof Blob !== "undefined" && o instanceof Blob) continue;
    if (Array.isArray(o)) {
      for (let i = o.length - 1; i >= 0; i--) stack.push({ v: o[i], path: `${path}[${i}]` });
      continue;
    }
    if (o instanceof Map) {
      let i = 0;
      for (const [k, val] of o) {
        stack.push({ v: k, path: `${path}.<key ${i}>` }, { v: val, path: `${path}.get(${i})` });
        i++;
      }
      continue;
    }
    if (o instanceof Set) {
      let i = 0;
      for (const val of o) stack.push({ v: val, path: `${path}.<element ${i++}>` });
      continue;
    }
    if (!isPlainObject(o) && !restored?.has(o)) {
      return {
        path,
        why: `is an instance of ${describeClass(o)}, which would arrive as a plain object without its methods (instances of classes from earlier cells get their class back); send plain data (e.g. \`{ ...obj }\`) or create the instance inside the mapped function`,
      };
    }
    const keys = Object.keys(o);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      const desc = Object.getOwnPropertyDescriptor(o, k);
      if (desc && (desc.get || desc.set)) return { path: `${path}.${k}`, why: "is a getter/setter property, which cannot be copied" };
      stack.push({ v: (o as Record<string, unknown>)[k], path: /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]` });
    }
  }
  return undefined;
}
