/**
 * Automatic capture: given the JS source of a function that is about to run on workers, finds what
 * it uses from earlier cells (transitively through the source of the functions and classes it
 * uses) and turns each into a dependency the farm can install on a worker:
 *   - functions and classes: their source, `{ name, js }` (so the worker gets real code),
 *   - imports: `{ name, import, imported }`, re-imported in the worker (with what the worker needs
 *     for them, see worker-imports.ts); a value that is a module the notebook loaded, or one of its
 *     exports (`const ms = require("ms")`), travels the same way (see module-origins.ts),
 *   - data (const/let/var values, and plain globals such as `_`): a snapshot `{ name, value }` taken now,
 *   - TypeScript's emit helpers that the code calls (decorators, `using`): their text (emit-helpers.ts),
 *   - types, interfaces and ambient (`declare`) bindings: nothing (erased, or provided by the
 *     workers themselves, e.g. by a `%%pool run` cell).
 * A value that cannot travel (a socket, a promise, a native or bound function, a function that
 * uses variables of the function or module that made it, ...) is a CaptureError naming the
 * binding and why. The dependency list is ordered (dependencies before their dependents, then by
 * first use) so that unchanged code produces identical entries that the farm's content-key cache
 * recognises.
 */
import { createHash, randomUUID } from "node:crypto";
import vm from "node:vm";
import { digestValue } from "../farm/value-digest.js";
import { dynamicImports, freeIdentifiers, isSingleExpressionLike, isSingleFunctionOrClass, parseScript } from "./free-identifiers.js";
import { findTravelProblem } from "./travel-check.js";
import { scopeVariables, type ScopeVariable } from "./function-scopes.js";
import { moduleOrigin, type ImportBindings } from "./module-origins.js";
import { emitHelperSource } from "./emit-helpers.js";
import { instancePaths, objectsAt, restoreInstances } from "./instance-paths.js";
import { kernelResolutions, RESOLVE_GLOBAL, TYPESCRIPT_LOADER, workerResolver } from "./worker-imports.js";
import { isNotebookTypeScript } from "../kernel/executor/typescript-loader-registration.js";

/** The subset of the session's binding registry (contract C2) that capture reads. */
export interface CapturedBinding {
  name: string;
  kind: string;
  cell: number;
  js?: string;
  importSpec?: { url: string; imported: string };
  /** Declared with `declare`: it has no value in the kernel. */
  ambient?: boolean;
}
export interface BindingLookup {
  get(name: string): CapturedBinding | undefined;
  /** Every binding (to find the import a value comes from). */
  all?(): CapturedBinding[];
}

/** Dependencies as the farm's TaskCode (contract C3) takes them. */
export type CaptureDep =
  | { name: string; js: string }
  | { name: string; value: unknown }
  | { name: string; import: string; imported: string; member?: string }
  | { name: string; require: string; member?: string }
  | { script: string };

export class CaptureError extends Error {
  constructor(readonly binding: string, why: string) {
    super(`\`${binding}\` cannot travel to the workers: ${why}`);
    this.name = "CaptureError";
  }
}

export interface CaptureContext {
  bindings: BindingLookup;
  /** Where current values live (the session's global scope). */
  scope: Record<string, unknown>;
  /** Names that must never be captured (e.g. the function's own parameters handled elsewhere). */
  exclude?: Iterable<string>;
  /** The workers are threads, which share memory with the kernel (process workers would get copies of it). */
  sharedMemory?: boolean;
}

// Names every worker already has: ECMAScript globals (from a fresh context) and Node's globals.
const PRISTINE = new Set<string>([
  ...Object.getOwnPropertyNames(vm.runInNewContext("globalThis")),
  "globalThis", "global", "process", "Buffer", "console", "require", "module", "exports", "__filename", "__dirname",
  "setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "clearImmediate", "queueMicrotask",
  "structuredClone", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "AbortController", "AbortSignal",
  "EventTarget", "Event", "CustomEvent", "MessageChannel", "MessagePort", "MessageEvent", "BroadcastChannel", "Blob", "File",
  "FormData", "Headers", "Request", "Response", "fetch", "performance", "atob", "btoa", "crypto", "Crypto", "CryptoKey",
  "SubtleCrypto", "WebAssembly", "navigator", "Navigator", "DOMException", "ReadableStream", "WritableStream",
  "TransformStream", "WebSocket", "Performance", "PerformanceEntry", "PerformanceMark", "PerformanceMeasure",
  "Intl", "Atomics", "SharedArrayBuffer",
]);
// The kernel's own cell globals, which make no sense inside a worker.
const KERNEL_ONLY: Record<string, string> = {
  display: "`display` shows output under the cell from the kernel only; in a worker, print with console.log (the lines appear under the cell, labelled with the worker)",
  clearOutput: "`clearOutput` works in the kernel only",
  input: "`input` asks the user from the kernel only; ask in a cell first and use the answer",
  pool: "the notebook's `pool` lives in the kernel; a task cannot start other tasks on it",
};

// Globals that existed when the kernel started (Node's, and the executor's own helpers).
const AT_STARTUP = new Set<string>(Object.getOwnPropertyNames(globalThis));

/**
 * JS source of a function value as an expression, or undefined when it has none
 * (native, bound) — then the caller reports why it cannot travel.
 */
export function functionSourceAsExpression(fn: Function): string | undefined {
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return undefined;
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) return undefined;
  if (isSingleFunctionOrClass(src) && startsLikeExpression(src)) return src;
  // Method shorthand (`f(x) { ... }`, `async *g() {}`, `get x() {}`) prints without `function`.
  const asMethod = `({ ${src} })`;
  const sf = parseScript(asMethod);
  if (sf && fn.name && /^[A-Za-z_$][\w$]*$/.test(fn.name) && !/^(get|set)\s/.test(src)) {
    return `(${asMethod}).${fn.name}`;
  }
  return undefined;
}

function startsLikeExpression(src: string): boolean {
  const s = src.trimStart();
  return /^(async\s+)?function\b/.test(s) || /^class\b/.test(s) || /^(async\s*)?(\(|[A-Za-z_$][\w$]*\s*=>)/.test(s);
}

/** A binding's js as an expression: declarations are expressions too, other statement lists get wrapped. */
function bindingExpression(name: string, js: string): string {
  if (isSingleExpressionLike(js)) return js;
  return `(() => {\n${js}\nreturn ${name};\n})()`;
}

interface Visit {
  deps: CaptureDep[];
  done: Set<string>;
  active: Set<string>;
  /** Names the workers have of their own (ctx.exclude). */
  onWorkers: Set<string>;
  /** Modules the shipped code loads with `import("...")`. */
  imports: Set<string>;
}

/**
 * Builds the dependencies of `source` (the JS of the function to run). `source` itself is not
 * included. Throws CaptureError for something that cannot travel.
 *
 * With `fn`, `source` is the source of that function value (what the workers run), so it must
 * not use variables of an enclosing function or module either (see checkClosure).
 */
export function captureDependencies(source: string, ctx: CaptureContext, fn?: { name: string; value: Function }): CaptureDep[] {
  const free = freeIdentifiers(source);
  if (!free) throw new CaptureError(fn?.name ?? "(the function)", "its JavaScript source does not parse");
  const onWorkers = new Set(ctx.exclude ?? []);
  const state: Visit = { deps: [], done: new Set(onWorkers), active: new Set(), onWorkers, imports: new Set(dynamicImports(source)) };
  if (fn) checkClosure(fn.name, source, fn.value, ctx, state, []);
  for (const name of free) visit(name, ctx, state, []);
  shipDynamicImports(ctx, state);
  return state.deps;
}

/** What the shipped code's `import("...")` calls need on a worker (see worker-imports.ts). */
function shipDynamicImports(ctx: CaptureContext, state: Visit): void {
  const urls = kernelResolutions(state.imports, ctx.scope);
  for (const url of urls.values()) if (isNotebookTypeScript(url)) needTypeScriptLoader(state);
  // (RESOLVE_GLOBAL in `done` and not on the workers: the code calls it)
  if (state.done.has(RESOLVE_GLOBAL) && !state.onWorkers.has(RESOLVE_GLOBAL)) state.deps.push(workerResolver(urls));
}

/** Throws the CaptureError for a function whose code uses variables of the scope it was made in (see function-scopes.ts). */
function checkClosure(name: string, js: string, fn: Function, ctx: CaptureContext, state: Visit, via: string[]): void {
  const free = (freeIdentifiers(js) ?? []).filter((n) => n !== name);
  if (free.length === 0) return;
  const captured = (scopeVariables(fn, free) ?? []).filter((v) => !sameAsGlobal(v, ctx, state));
  if (captured.length === 0) return;
  throw new CaptureError(name, closureProblem(name, captured, ctx, via));
}

/**
 * Whether a variable the function closes over is the notebook's global of that name: a cell's
 * function declarations are variables of the cell's script (which other functions of the cell
 * see) and also its globals, the same values as long as no later cell redefined them.
 */
function sameAsGlobal(v: ScopeVariable, ctx: CaptureContext, state: Visit): boolean {
  return !state.onWorkers.has(v.name) && v.name in ctx.scope && Object.is(ctx.scope[v.name], v.value);
}

function closureProblem(name: string, captured: ScopeVariable[], ctx: CaptureContext, via: string[]): string {
  const names = captured.map((v) => "`" + v.name + "`").join(", ");
  const first = captured[0]!;
  // A function of a cell that uses another function of the same cell, redefined since by a later cell.
  const redefined = captured.find((v) => v.scope === "closure" && !v.owner && typeof v.value === "function" && (v.value as Function).name === v.name && ctx.bindings.get(v.name)?.kind === "function");
  if (redefined) {
    const b = ctx.bindings.get(redefined.name)!;
    return `its code uses \`${redefined.name}\` of its own cell${chain(via)}, which cell ${b.cell} has redefined since: ` +
      `in the kernel \`${name}\` still calls the old \`${redefined.name}\`, which is not the notebook's global any more and cannot travel with it. ` +
      `Run the cell that defines \`${name}\` again (it then uses the new \`${redefined.name}\`), or define the two in separate cells`;
  }
  const one = captured.length === 1;
  const shadowed = captured.filter((v) => v.name in ctx.scope || ctx.bindings.get(v.name)).map((v) => "`" + v.name + "`");
  const also = shadowed.length === 0 ? "" : ` (the notebook's global ${shadowed.join(", ")} of the same name ${shadowed.length === 1 ? "is another variable" : "are other variables"}, which the source would silently use instead)`;
  const where = first.scope === "module" ? "a function of a module"
    : first.scope === "block" || first.scope === "catch" ? "a function made inside a block or loop"
      : `a function made inside another function${first.owner ? ` (\`${first.owner}\`)` : ""} (a closure)`;
  const whose = first.scope === "module" ? "that module" : first.scope === "block" || first.scope === "catch" ? "that block" : "that function";
  const advice = first.scope === "module"
    ? "Import the module in a cell and use its export (imports are imported again on the workers), or pass what the function needs as arguments"
    : first.scope === "block" || first.scope === "catch"
      ? "Pass what it uses as an argument (e.g. map over pairs of values, or use `%%pool starmap`), or define the function at top level in a cell"
      : "Define the function at top level in a cell (it then travels as its source), pass what it uses as an argument, " +
        "or, for a function of a module, import it in a cell (imports are imported again on the workers)";
  return `it is ${where}${chain(via)}, and its code uses ${names}, ${one ? "a variable" : "variables"} of ${whose}${also}, ` +
    `so its source alone cannot run on a worker. ${advice}`;
}

function visitSource(js: string, owner: string, ctx: CaptureContext, state: Visit, via: string[]): void {
  const free = freeIdentifiers(js);
  if (!free) throw new CaptureError(owner, "its JavaScript source does not parse");
  for (const spec of dynamicImports(js)) state.imports.add(spec);
  for (const n of free) if (n !== owner) visit(n, ctx, state, [...via, owner]);
}

function visit(name: string, ctx: CaptureContext, state: Visit, via: string[]): void {
  if (state.done.has(name) || state.active.has(name)) return;
  state.active.add(name);
  try {
    const dep = resolve(name, ctx, state, via);
    if (dep) state.deps.push(dep);
  } finally {
    state.active.delete(name);
    state.done.add(name);
  }
}

/** Ships the TypeScript loader (once), ahead of the imports that need it. */
function needTypeScriptLoader(state: Visit): void {
  if (!state.deps.includes(TYPESCRIPT_LOADER)) state.deps.push(TYPESCRIPT_LOADER);
}

function chain(via: string[]): string {
  return via.length === 0 ? "" : ` (used by ${[...via].reverse().map((v) => "`" + v + "`").join(" ← ")})`;
}

function resolve(name: string, ctx: CaptureContext, state: Visit, via: string[]): CaptureDep | undefined {
  const b = ctx.bindings.get(name);
  if (b?.ambient) return undefined; // no value in the kernel: the workers' own global (or their ReferenceError)
  if (b) {
    switch (b.kind) {
      case "type": case "interface":
        return undefined;
      case "import":
        if (!b.importSpec) throw new CaptureError(name, `the import from cell ${b.cell} has no recorded module${chain(via)}`);
        if (isNotebookTypeScript(b.importSpec.url)) needTypeScriptLoader(state);
        return { name, import: b.importSpec.url, imported: b.importSpec.imported };
      case "function": case "class": case "enum": case "namespace":
        if (b.js) {
          const js = bindingExpression(name, b.js);
          const value = ctx.scope[name];
          if (typeof value === "function") checkClosure(name, js, value, ctx, state, via);
          visitSource(js, name, ctx, state, via);
          return { name, js };
        }
        break;
    }
    return valueDependency(name, ctx.scope[name], ctx, state, via, `cell ${b.cell}`);
  }
  if (PRISTINE.has(name)) return undefined;
  if (KERNEL_ONLY[name]) throw new CaptureError(name, `${KERNEL_ONLY[name]}${chain(via)}`);
  if (!(name in ctx.scope)) return undefined; // unknown here too: the worker reports the same ReferenceError
  if (AT_STARTUP.has(name)) return undefined; // the runtime's own globals
  const helper = emitHelperSource(name);
  if (helper !== undefined) return { name, js: helper };
  return valueDependency(name, ctx.scope[name], ctx, state, via, "a global");
}

function valueDependency(name: string, value: unknown, ctx: CaptureContext, state: Visit, via: string[], origin: string): CaptureDep {
  if (typeof value === "function") {
    const fromModule = moduleDependency(name, value, ctx, state);
    if (fromModule) return fromModule;
    const js = functionSourceAsExpression(value);
    if (js === undefined) {
      throw new CaptureError(name, `it is a native or bound function (from ${origin}) whose source is not available${chain(via)}; wrap it in a function declared in a cell`);
    }
    checkClosure(name, js, value, ctx, state, via);
    visitSource(js, name, ctx, state, via);
    return { name, js };
  }
  const instances = instancePaths(value, (ctor) => notebookClassName(ctor, ctx));
  if (instances.length > 0) {
    // Instances of classes from earlier cells (the value itself, or inside it): their own fields
    // travel as data, their classes as code, and a small script gives the copies their
    // prototypes back.
    const restored = new Set(objectsAt(value, instances));
    const problem = findTravelProblem(value, { restored, sharedMemory: ctx.sharedMemory });
    if (problem) throw new CaptureError(name, `its value${problem.path} ${problem.why}${chain(via)}`);
    const classes = [...new Set(instances.map(([, c]) => c))];
    for (const c of classes) visit(c, ctx, state, [...via, name]);
    state.deps.push({ name, value });
    let digest: string;
    try {
      const hash = createHash("sha1").update(digestValue(value)).update(JSON.stringify(instances));
      for (const c of classes) hash.update((ctx.bindings.get(c) as { js?: string } | undefined)?.js ?? "");
      digest = hash.digest("base64url");
    } catch {
      digest = randomUUID(); // not digestible (e.g. shared memory): always restore
    }
    const classFor = `(n) => ({ ${classes.map((c) => `${c}: ${c}`).join(", ")} })[n]`;
    const restore = `(${restoreInstances.toString()})(globalThis[${JSON.stringify(name)}], ${JSON.stringify(instances)}, ${classFor});`;
    return { script: `/* ${digest} */ ${restore}` };
  }
  const problem = findTravelProblem(value, { sharedMemory: ctx.sharedMemory });
  if (problem) {
    const fromModule = moduleDependency(name, value, ctx, state);
    if (fromModule) return fromModule;
    throw new CaptureError(name, `its value${problem.path} ${problem.why}${chain(via)}`);
  }
  return { name, value };
}

/** `name` as the module (or the module's export) its value is, loaded again on the workers; undefined when it is none. */
function moduleDependency(name: string, value: unknown, ctx: CaptureContext, state: Visit): CaptureDep | undefined {
  const origin = moduleOrigin(value, ctx.bindings.all ? (ctx.bindings as ImportBindings) : undefined, ctx.scope);
  if (!origin) return undefined;
  if ("import" in origin && isNotebookTypeScript(origin.import)) needTypeScriptLoader(state);
  return { name, ...origin };
}

/** The name of `ctor` when it is a class from an earlier cell (the binding's current value). */
function notebookClassName(ctor: Function, ctx: CaptureContext): string | undefined {
  const b = ctx.bindings.get(ctor.name);
  return b && b.kind === "class" && ctx.scope[ctor.name] === ctor ? ctor.name : undefined;
}
