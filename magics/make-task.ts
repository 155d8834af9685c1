/**
 * Turns a function from the notebook into the farm's TaskCode: its JS source plus the
 * dependencies automatic capture finds for it (earlier cells' data, functions, classes, imports).
 * TaskCode and module references given explicitly pass through unchanged.
 */
import type { TaskCode } from "../farm/task-code.js";
import { captureDependencies, CaptureError, functionSourceAsExpression, type BindingLookup } from "./capture.js";

export interface TaskContext {
  bindings: BindingLookup;
  scope?: Record<string, unknown>;
  /** Names the workers already have (made there by `%%pool run` cells): not captured from the kernel. */
  exclude?: Iterable<string>;
  /** The workers are threads (they share memory with the kernel; process workers cannot). */
  sharedMemory?: boolean;
}

export function functionTask(fn: Function, ctx: TaskContext, filename?: string): TaskCode {
  const scope = ctx.scope ?? (globalThis as Record<string, unknown>);
  const source = functionSourceAsExpression(fn);
  if (source === undefined) {
    throw new CaptureError(fn.name || "the function", "it is a native or bound function whose source is not available; wrap it in an arrow function, e.g. `(x) => f(x)`");
  }
  // A recursive `const f = (n) => ... f(n - 1)` captures itself as a dependency; a named
  // function expression (`function fib(n) { ... fib(n - 1) }`) binds its own name.
  // Its own source is all that travels: it must not use variables of an enclosing function.
  const deps = captureDependencies(source, { bindings: ctx.bindings, scope, exclude: ctx.exclude, sharedMemory: ctx.sharedMemory }, { name: nameOf(fn, ctx.bindings, scope), value: fn });
  return { fn: source, deps, filename };
}

/** How errors name the function: the notebook binding that holds it (`add5` for `const add5 = makeAdder(5)`), else its own name. */
function nameOf(fn: Function, bindings: BindingLookup, scope: Record<string, unknown>): string {
  for (const b of bindings.all?.() ?? []) if (!b.ambient && b.kind !== "type" && b.kind !== "interface" && scope[b.name] === fn) return b.name;
  return fn.name || "the function";
}

/** Accepts what the farm accepts; plain functions get automatic capture. */
export function toTask(fn: unknown, ctx: TaskContext, filename?: string): unknown {
  if (typeof fn === "function") return functionTask(fn, ctx, filename);
  return fn;
}
