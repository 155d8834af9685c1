/**
 * Instances of notebook classes keep their class on the way to the workers and back.
 *
 * Structured clone (how items, arguments and results cross to a worker) copies an object's own
 * fields but not its prototype, so a `Particle` arrives as a plain `{ x, v }` without its methods.
 * Here the sender finds where instances of notebook classes sit inside a value (`instancePaths`),
 * sends the value with that list (an envelope), and the receiver gives each of those objects its
 * class's prototype back: on a worker the class shipped as code, in the kernel the session's own.
 * Nothing is wrapped when no notebook class is involved, so plain data pays nothing.
 */
import type { TaskCode } from "../farm/task-code.js";
import { captureDependencies, type BindingLookup } from "./capture.js";
import { instancePaths, restoreInstances, type InstancePath } from "./instance-paths.js";

/** The envelope's own key: a value with instances travels as `{ [ENVELOPE]: paths, value }`. */
export const ENVELOPE = "__tspool_instances";

function isEnvelope(v: unknown): v is { [ENVELOPE]: InstancePath[]; value: unknown } {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype
    && Array.isArray((v as Record<string, unknown>)[ENVELOPE]) && "value" in v && Object.keys(v).length === 2;
}

// ---------------------------------------------------------------------------- kernel side

/** The session's classes (class bindings whose current global is that very class), by constructor. */
export function notebookClasses(bindings: { all(): { name: string; kind: string }[] }, scope: Record<string, unknown>): Map<Function, string> {
  const out = new Map<Function, string>();
  for (const b of bindings.all()) {
    const ctor = scope[b.name];
    if (b.kind === "class" && typeof ctor === "function") out.set(ctor, b.name);
  }
  return out;
}

/** `value`, or its envelope when it holds instances of `classes`; the names found go into `used`. */
export function encodeValue(value: unknown, classes: Map<Function, string>, used: Set<string>): unknown {
  if (classes.size === 0 || value === null || typeof value !== "object") return value;
  const paths = instancePaths(value, (ctor) => classes.get(ctor));
  if (paths.length === 0) return value;
  for (const [, name] of paths) used.add(name);
  return { [ENVELOPE]: paths, value };
}

/** A value from a worker, with the instances it marked given the kernel's classes of those names. */
export function decodeValue(value: unknown, scope: Record<string, unknown>): unknown {
  if (!isEnvelope(value)) return value;
  restoreInstances(value.value, value[ENVELOPE], (name) => scope[name]);
  return value.value;
}

/** Names of the classes a task ships as code (what it may construct and return). */
export function classDependencies(task: TaskCode, bindings: BindingLookup): string[] {
  const out: string[] = [];
  for (const d of task.deps ?? []) {
    if ("name" in d && "js" in d && bindings.get(d.name)?.kind === "class") out.push(d.name);
  }
  return out;
}

// ---------------------------------------------------------------------------- worker side

const IN = "__tspool_instances_in";
const OUT = "__tspool_instances_out";
const FN = "__tspool_instances_fn";

/** The name of the function a class-aware task calls; the workers' stack traces leave out its frames (and its helpers', see worker-stack-traces.ts). */
const CLASS_AWARE_CALL = "__tspool_instances_call";

/**
 * `task` wrapped so that its arguments are unwrapped from envelopes (their instances given the
 * prototypes of the class code shipped along) and its results that hold instances of
 * `classNames` go back in envelopes. Works for map (one argument) and starmap (spread arguments).
 */
export function classAwareTask(task: TaskCode, classNames: Iterable<string>): TaskCode {
  const names = JSON.stringify([...new Set(classNames)].sort());
  const key = JSON.stringify(ENVELOPE);
  const helpers = [
    { name: "__tspool_instance_paths", js: instancePaths.toString() },
    { name: "__tspool_restore_instances", js: restoreInstances.toString() },
    {
      name: IN,
      js: `(v) => { if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype && Array.isArray(v[${key}]) && "value" in v && Object.keys(v).length === 2) { __tspool_restore_instances(v.value, v[${key}], (n) => globalThis[n]); return v.value; } return v; }`,
    },
    {
      name: OUT,
      js: `((names) => { const mark = (r) => { const paths = __tspool_instance_paths(r, (c) => names.includes(c.name) && globalThis[c.name] === c ? c.name : undefined); return paths.length ? { ${key}: paths, value: r } : r; }; return (r) => r !== null && typeof r === "object" && typeof r.then === "function" ? Promise.resolve(r).then(mark) : mark(r); })(${names})`,
    },
    { name: FN, js: task.fn },
  ];
  return {
    fn: `function ${CLASS_AWARE_CALL}(...args) { return ${OUT}(${FN}(...args.map(${IN}))); }`,
    deps: [...(task.deps ?? []), ...helpers],
    filename: task.filename,
  };
}

/** The name the wrapped function travels under (its frames are the user's code). */
export const CLASS_AWARE_FN = FN;

// ---------------------------------------------------------------------------- a call, both sides

export interface ClassAwareSession {
  bindings: BindingLookup & { all(): { name: string; kind: string }[] };
  scope: Record<string, unknown>;
}

export interface ClassAwareCall {
  task: TaskCode;
  /** The items (or argument lists, with `star`) with instances in envelopes. */
  items: readonly unknown[] | ArrayLike<number>;
  /** Turns a result into what the kernel should see (absent when the call needed no wrapping). */
  decode?: (value: unknown) => unknown;
}

/**
 * Prepares a map-like call (map, starmap, imap, apply: `star` when each item is an argument list)
 * so that instances of notebook classes in the items and in the results keep their classes. When
 * no notebook class is involved the task and items come back as they were.
 */
export function classAwareCall(
  task: TaskCode, items: Iterable<unknown> | ArrayLike<unknown>, star: boolean, session: ClassAwareSession,
): ClassAwareCall {
  const list = Array.isArray(items) || ArrayBuffer.isView(items) ? (items as readonly unknown[]) : Array.from(items as Iterable<unknown>);
  const classes = notebookClasses(session.bindings, session.scope);
  if (classes.size === 0) return { task, items: list };
  const used = new Set<string>();
  let encoded = list;
  if (!ArrayBuffer.isView(list)) {
    let out: unknown[] | undefined; // copied only from the first item that changes
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      if (item === null || typeof item !== "object") {
        if (out) out.push(item);
        continue;
      }
      const e = star && Array.isArray(item) ? encodeArgs(item, classes, used) : encodeValue(item, classes, used);
      if (e !== item && !out) out = list.slice(0, i);
      if (out) out.push(e);
    }
    if (out) encoded = out;
  }
  const shipped = new Set([...classDependencies(task, session.bindings), ...used]);
  if (shipped.size === 0) return { task, items: list };
  // Classes only the items mention travel too (the function itself may not name them).
  const have = new Set((task.deps ?? []).map((d) => ("name" in d ? d.name : "")));
  const missing = [...used].filter((n) => !have.has(n));
  const extra = missing.length ? captureDependencies(missing.join(";"), { bindings: session.bindings, scope: session.scope, exclude: have }) : [];
  return {
    task: classAwareTask({ ...task, deps: [...(task.deps ?? []), ...extra] }, shipped),
    items: encoded,
    decode: (v) => decodeValue(v, session.scope),
  };
}

/**
 * Prepares a task that reads what the workers hold (`%pool pull`): its results come back with
 * their classes when they hold instances of notebook classes the workers have (shipped there as
 * code, by a push or by a task that used them).
 */
export function classAwareRead(task: TaskCode, session: ClassAwareSession): ClassAwareCall {
  const classes = [...notebookClasses(session.bindings, session.scope).values()];
  if (classes.length === 0) return { task, items: [] };
  return { task: classAwareTask(task, classes), items: [], decode: (v) => decodeValue(v, session.scope) };
}

function encodeArgs(args: readonly unknown[], classes: Map<Function, string>, used: Set<string>): unknown[] {
  let changed = false;
  const out = args.map((a) => {
    const e = encodeValue(a, classes, used);
    if (e !== a) changed = true;
    return e;
  });
  return changed ? out : (args as unknown[]);
}
