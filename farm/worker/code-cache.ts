/**
 * The worker's cache of task bundles (by content hash) and the globals their dependencies define.
 * A dependency is (re)installed only when the global it defines does not already hold that exact
 * dependency, so repeating a call costs a hash lookup, and two bundles that define the same name
 * differently each get their own definition when they run.
 */
import { createRequire } from "node:module";
import { isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import { constants as vmConstants, Script } from "node:vm";
import type { WorkerEnv } from "../handles.js";
import { decodeInWorker } from "./handle-kinds.js";
import type { Dep, WireBundle } from "../task-code.js";

type AnyFn = (...args: unknown[]) => unknown;

interface Entry { bundle: WireBundle; fn: AnyFn | null }

// Shipped code may use `await import(...)`: give its scripts the main context's module loader.
const importModuleDynamically = (vmConstants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol }).USE_MAIN_CONTEXT_DEFAULT_LOADER;

function runScript(code: string, filename: string): unknown {
  return new Script(code, { filename, ...(importModuleDynamically ? { importModuleDynamically: importModuleDynamically as never } : {}) }).runInThisContext();
}

/** Compiles a function expression; accepts method shorthand (`f(x) { ... }`) too. */
function compileFunction(src: string, filename: string): AnyFn {
  let value: unknown;
  try {
    value = runScript(`(${src}\n)`, filename);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    let obj: Record<string, unknown>;
    try {
      obj = runScript(`({${src}\n})`, filename) as Record<string, unknown>;
    } catch {
      throw e;
    }
    value = Object.values(obj)[0];
  }
  if (typeof value !== "function") {
    throw new TypeError(`the task source did not evaluate to a function (got ${typeof value}): ${src.slice(0, 80)}`);
  }
  return value as AnyFn;
}

async function importSpecifier(spec: string): Promise<Record<string, unknown>> {
  if (/^(node|file|data):/.test(spec)) return import(spec);
  if (isAbsolute(spec)) return import(pathToFileURL(spec).href);
  try {
    const resolved = createRequire(join(process.cwd(), "noop.js")).resolve(spec);
    return await import(isAbsolute(resolved) ? pathToFileURL(resolved).href : resolved);
  } catch {
    return import(spec);
  }
}

export class CodeCache {
  private entries = new Map<string, Entry>();
  /** global name (or "script:<key>") -> key of the dep that defined it */
  private installed = new Map<string, string>();

  constructor(private readonly env: WorkerEnv) {}

  has(hash: string): boolean { return this.entries.has(hash); }

  get size(): number { return this.entries.size; }

  /** The function of a cached bundle whose deps are all in place, or null if work is needed. */
  ready(hash: string): AnyFn | null {
    const e = this.entries.get(hash);
    if (!e || !e.fn) return null;
    const { deps, depKeys } = e.bundle;
    for (let i = 0; i < deps.length; i++) {
      const d = deps[i];
      if (this.installed.get("script" in d ? `script:${depKeys[i]}` : d.name) !== depKeys[i]) return null;
    }
    return e.fn;
  }

  /** Ensures the bundle is known, its deps installed and its function compiled. */
  async prepare(hash: string, bundle: WireBundle | undefined): Promise<AnyFn> {
    let e = this.entries.get(hash);
    if (!e) {
      if (!bundle) throw new Error(`internal: code bundle ${hash} was never sent to this worker`);
      e = { bundle, fn: null };
      this.entries.set(hash, e);
    }
    const b = e.bundle;
    const filename = b.filename ?? `tspool-task-${hash.slice(0, 8)}.js`;
    for (let i = 0; i < b.deps.length; i++) await this.installDep(b.deps[i], b.depKeys[i], filename);
    if (!e.fn) {
      // on failure the bundle stays cached without a function: the parent sends only the hash
      // next time, and the same error comes back (or success, if e.g. a module file was fixed)
      if (b.module) {
        const ns = await importSpecifier(b.module.url);
        const f = b.module.export === "*" ? ns : ns[b.module.export];
        if (typeof f !== "function") {
          throw new TypeError(`module ${b.module.url} has no function export "${b.module.export}" (exports: ${Object.keys(ns).join(", ") || "none"})`);
        }
        e.fn = f as AnyFn;
      } else {
        e.fn = compileFunction(b.fn ?? "", filename);
      }
    }
    return e.fn;
  }

  private async installDep(d: Dep, key: string, filename: string): Promise<void> {
    const slot = "script" in d ? `script:${key}` : d.name;
    if (this.installed.get(slot) === key) return;
    const g = globalThis as Record<string, unknown>;
    if ("script" in d) runScript(d.script, filename);
    else if ("js" in d) g[d.name] = runScript(`(${d.js}\n)`, filename);
    else if ("import" in d) {
      const ns = await importSpecifier(d.import);
      if (d.imported !== "*" && !(d.imported in ns)) {
        throw new Error(`${d.import} has no export "${d.imported}" (needed for "${d.name}")`);
      }
      g[d.name] = d.imported === "*" ? ns : ns[d.imported];
    } else g[d.name] = await decodeInWorker(d.value, this.env);
    this.installed.set(slot, key);
  }

  /** Records that a plain push replaced a global, so a dep of the same name is reinstalled when needed. */
  overwritten(name: string): void { this.installed.delete(name); }
}
