/**
 * What a task runs (contract C3): JS source of a function plus what it depends on, or a module
 * export. The parent turns any accepted form into a `PreparedCode` with a content hash, and a
 * content key per dependency. Workers keep bundles by hash and dependencies by key, so repeating a
 * call sends only the hash, and a new bundle (another function, another cell) sends in full only
 * the dependencies its worker does not hold yet (see code-ledger.ts).
 *
 * Dependency values are snapshots taken when the call is made (value-snapshot.ts): every worker,
 * also one that joins later, gets the same, and each call installs a fresh copy of them.
 */
import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { snapshotValue } from "./value-snapshot.js";

export type Dep =
  /** A JS expression (function/class expression or any expression) -> globalThis[name]. */
  | { name: string; js: string }
  /** A value, copied as it is when the call is made (structured clone; handles allowed). */
  | { name: string; value: unknown }
  /** globalThis[name] = (await import(url))[imported], or that's `member`; imported is an export name, "default" or "*". */
  | { name: string; import: string; imported: string; member?: string }
  /** globalThis[name] = require(spec), or its `member`; spec is an absolute file name or "node:<builtin>". */
  | { name: string; require: string; member?: string }
  /** JS run as a script in the worker's global scope (e.g. a `%%pool run` body). */
  | { script: string };

/** On the wire: a value dependency as the bytes of its snapshot (v8 serialization). */
export interface SnapshotDep { name: string; snapshot: Uint8Array }

export interface TaskCode {
  /** JS source of a function expression. */
  fn: string;
  deps?: Dep[];
  /** File name shown in stack traces. */
  filename?: string;
}

/** A function exported by a module the workers import (absolute or cwd-relative path, or URL). */
export interface ModuleFn { module: string; export?: string }

/** Anything accepted where a task function is expected. */
export type TaskFn<A extends unknown[] = any[], R = any> = ((...args: A) => R) | TaskCode | ModuleFn;

/** A task's code with everything it needs, and the content key of each dependency. */
export interface CodeBundle {
  fn?: string;
  module?: { url: string; export: string };
  deps: Dep[];
  /** Content key of each dep: a worker reinstalls a global only when the key it holds differs. */
  depKeys: string[];
  /** For each dep: the snapshot of its value (bytes), or undefined (not a value, or a value that travels as it is). */
  snapshots: (Uint8Array | undefined)[];
  filename?: string;
}

export interface PreparedCode {
  hash: string;
  bundle: CodeBundle;
  /** Set when the bundle has snapshots: the call they were taken for (workers install fresh copies once per call). */
  call?: number;
}

/** What a job says about its code: the bundle's hash, the bundle itself if the worker lacks it, and the call. */
export interface CodeMessage { hash: string; bundle?: WireBundle; call?: number }

/** In a bundle sent to a worker: a dependency the worker already holds (under the key at the same index). */
export interface HeldDep { held: true }

/** What crosses to a worker the first time it needs a hash. */
export interface WireBundle extends Omit<CodeBundle, "deps" | "snapshots"> {
  /** The dependencies, those the worker holds as references, values as their snapshots when they have one. */
  deps: (Dep | SnapshotDep | HeldDep)[];
  /** Keys of dependencies the worker may let go of (the parent will send them again if needed). */
  forget?: string[];
}


function isTaskCode(x: unknown): x is TaskCode {
  return typeof x === "object" && x !== null && typeof (x as TaskCode).fn === "string";
}
function isModuleFn(x: unknown): x is ModuleFn {
  return typeof x === "object" && x !== null && typeof (x as ModuleFn).module === "string";
}

function moduleUrl(spec: string): string {
  if (/^(file|node|data):/.test(spec)) return spec;
  return pathToFileURL(isAbsolute(spec) ? spec : resolve(process.cwd(), spec)).href;
}

/** Source of a plain function, checked for the forms that cannot travel. */
function functionSource(fn: Function): string {
  const src = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
    throw new TypeError(
      `cannot send ${fn.name ? `"${fn.name}"` : "this function"} to workers: it is a native or bound function ` +
        `(its source is not available). Wrap it: (x) => ${fn.name || "f"}(x), with what it needs passed as deps.`,
    );
  }
  return src;
}

/** A dependency's content key (what identifies it on a worker), and the snapshot of its value. */
function keyed(dep: Dep): { key: string; snapshot?: Uint8Array } {
  let content: unknown;
  let snapshot: Uint8Array | undefined;
  if ("script" in dep) content = ["s", dep.script];
  else if ("js" in dep) content = ["j", dep.name, dep.js];
  else if ("import" in dep) content = ["i", dep.name, dep.import, dep.imported, dep.member ?? null];
  else if ("require" in dep) content = ["r", dep.name, dep.require, dep.member ?? null];
  else {
    const snap = snapshotValue(dep.value);
    content = ["v", dep.name, snap.key];
    snapshot = snap.bytes;
  }
  return { key: createHash("sha1").update(JSON.stringify(content)).digest("base64url"), snapshot };
}

function checkDep(dep: Dep, i: number): void {
  if (typeof dep !== "object" || dep === null) throw new TypeError(`deps[${i}] must be an object, got ${typeof dep}`);
  if ("script" in dep) {
    if (typeof dep.script !== "string") throw new TypeError(`deps[${i}].script must be a string of JS`);
    return;
  }
  if (typeof (dep as { name?: unknown }).name !== "string" || !(dep as { name: string }).name) {
    throw new TypeError(`deps[${i}] needs a "name" (the global it defines in the worker)`);
  }
  if (!("js" in dep) && !("value" in dep) && !("import" in dep) && !("require" in dep)) {
    throw new TypeError(`deps[${i}] ("${(dep as { name: string }).name}") needs one of "js", "value", "import", "require" or "script"`);
  }
}

const functionCache = new WeakMap<Function, PreparedCode>();
/** Inline arrows are new objects on every call: cache by source too (bounded). */
const sourceCache = new Map<string, PreparedCode>();
const SOURCE_CACHE_MAX = 500;

/** Normalizes any accepted task form and computes its content hash. */
export function prepareCode(fn: TaskFn | unknown, what = "task function"): PreparedCode {
  if (typeof fn === "function") {
    const cached = functionCache.get(fn);
    if (cached) return cached;
    const src = functionSource(fn);
    const key = `${fn.name}\u0000${src}`;
    let prepared = sourceCache.get(key);
    if (!prepared) {
      prepared = finish({ fn: src, deps: [], filename: fn.name ? `task:${fn.name}` : undefined });
      if (sourceCache.size >= SOURCE_CACHE_MAX) sourceCache.delete(sourceCache.keys().next().value as string);
      sourceCache.set(key, prepared);
    }
    functionCache.set(fn, prepared);
    return prepared;
  }
  if (isTaskCode(fn)) {
    const deps = fn.deps ?? [];
    if (!Array.isArray(deps)) throw new TypeError(`${what}: "deps" must be an array`);
    deps.forEach(checkDep);
    return finish({ fn: fn.fn, deps, filename: fn.filename });
  }
  if (isModuleFn(fn)) {
    return finish({ module: { url: moduleUrl(fn.module), export: fn.export ?? "default" }, deps: [] });
  }
  throw new TypeError(
    `${what} must be a function, { fn: "<JS source>", deps? } or { module: "/path/to/file.js", export: "name" }; got ${
      fn === null ? "null" : typeof fn}`,
  );
}

/** Calls prepared with snapshots so far (each gets its own number). */
let calls = 0;

function finish(b: Omit<CodeBundle, "depKeys" | "snapshots">): PreparedCode {
  const keyedDeps = b.deps.map(keyed);
  const depKeys = keyedDeps.map((k) => k.key);
  const snapshots = keyedDeps.map((k) => k.snapshot);
  const bundle: CodeBundle = { ...b, depKeys, snapshots };
  if (bundle.filename === undefined) delete bundle.filename;
  const h = createHash("sha1");
  h.update(JSON.stringify([b.fn ?? null, b.module ?? null, b.filename ?? null, depKeys]));
  const prepared: PreparedCode = { hash: h.digest("base64url"), bundle };
  if (snapshots.some((s) => s !== undefined)) prepared.call = ++calls;
  return prepared;
}
