/**
 * The worker's side of code shipping: task bundles (by content hash), the dependencies they use
 * (by content key, as the parent sent them), and the globals those define. A bundle arrives with
 * the dependencies this worker already holds as references (code-ledger.ts is the parent's record
 * of what it holds), and is registered as soon as its message arrives, so that later messages may
 * refer to it even if its own job never runs (withdrawn, cancelled). A dependency is (re)installed
 * only when the global it defines does not already hold that exact dependency, so repeating a call
 * costs a hash lookup, and two bundles that define the same name differently each get their own
 * definition when they run.
 *
 * A value that came as a snapshot is kept as it arrived (deserialized once, never handed out),
 * and each call installs a fresh copy of it (fresh-copy.ts): what a call's tasks change in the
 * value is gone for the next call, which sees the value as it was when that call was made.
 */
import { createRequire } from "node:module";
import { isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import { deserialize } from "node:v8";
import { constants as vmConstants, Script } from "node:vm";
import type { WorkerEnv } from "../handles.js";
import { decodeInWorker } from "./handle-kinds.js";
import { Pristine } from "./fresh-copy.js";
import { depSlot } from "../dep-slot.js";
import type { CodeMessage, Dep, SnapshotDep, WireBundle } from "../task-code.js";

type AnyFn = (...args: unknown[]) => unknown;

interface Entry {
  fn: AnyFn | null;
  source?: string;
  module?: { url: string; export: string };
  filename: string;
  keys: string[];
  /** The global each dependency defines (see depSlot). */
  slots: string[];
  /** Which dependencies are snapshots (installed afresh for each call). */
  fresh: boolean[];
  /** A dependency the bundle referred to that this worker does not hold (would be a bug of the parent's ledger). */
  missing?: string;
}

/** What a worker holds, for `globalThis[Symbol.for("tspool.workerCode")]()`. */
export interface WorkerCodeCounts {
  /** Task bundles received. */
  bundles: number;
  /** Dependencies held (to reinstall them when needed). */
  dependencies: number;
  /** Dependencies received in full since the worker started (a repeated or similar task sends none). */
  received: number;
}

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

/** A dependency this worker holds: as it arrived, and for a snapshot, its value once deserialized. */
interface Held {
  dep: Dep | SnapshotDep;
  pristine?: Pristine;
}

function isSnapshot(d: Dep | SnapshotDep): d is SnapshotDep {
  return "snapshot" in d;
}

const requireHere = () => createRequire(join(process.cwd(), "noop.js"));

async function importSpecifier(spec: string): Promise<Record<string, unknown>> {
  if (/^(node|file|data):/.test(spec)) return import(spec);
  if (isAbsolute(spec)) return import(pathToFileURL(spec).href);
  try {
    const resolved = requireHere().resolve(spec);
    return await import(isAbsolute(resolved) ? pathToFileURL(resolved).href : resolved);
  } catch {
    return import(spec);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * An import's export as a cell's import gets it: the namespace for "*", else the export, or for a
 * CommonJS module whose exports Node could not list, that property of its default export.
 */
function exported(url: string, ns: Record<string, unknown>, imported: string, name: string): unknown {
  if (imported === "*") return ns;
  if (imported in ns) return ns[imported];
  const dflt = ns.default as Record<string, unknown> | undefined;
  if (imported !== "default" && dflt !== null && (typeof dflt === "object" || typeof dflt === "function") && imported in dflt) return dflt[imported];
  throw new Error(`${url} has no export "${imported}" (needed for "${name}")`);
}

function member(container: unknown, key: string, what: string, name: string): unknown {
  if (container === null || (typeof container !== "object" && typeof container !== "function") || !(key in container)) {
    throw new Error(`${what} has no "${key}" on this worker (needed for "${name}")`);
  }
  return (container as Record<string, unknown>)[key];
}

export class CodeCache {
  private entries = new Map<string, Entry>();
  /** dependency key -> the dependency, as received */
  private held = new Map<string, Held>();
  /** global name (or "script:<key>") -> key of the dep that defined it */
  private installed = new Map<string, string>();
  /** global name -> the call whose fresh copy of a snapshot it holds */
  private installedFor = new Map<string, number | undefined>();
  /** What a bundle's `forget` list meant when it arrived (applied when its job runs). */
  private forgetting = new WeakMap<WireBundle, [string, Held][]>();
  private received = 0;

  constructor(private readonly env: WorkerEnv) {
    Object.defineProperty(globalThis, Symbol.for("tspool.workerCode"), { value: () => this.counts(), configurable: true });
  }

  counts(): WorkerCodeCounts {
    return { bundles: this.entries.size, dependencies: this.held.size, received: this.received };
  }

  /** Registers a bundle as its message arrives: the dependencies sent in full are held from now on. */
  receive(hash: string, bundle: WireBundle): void {
    const keys = bundle.depKeys;
    const slots: string[] = [];
    const fresh: boolean[] = [];
    let missing: string | undefined;
    bundle.deps.forEach((d, i) => {
      if ("held" in d) {
        const have = this.held.get(keys[i]);
        if (have === undefined) missing ??= keys[i];
        slots.push(have === undefined ? `missing:${keys[i]}` : depSlot(have.dep, keys[i]));
        fresh.push(have !== undefined && isSnapshot(have.dep));
        return;
      }
      this.held.set(keys[i], { dep: d });
      this.received++;
      slots.push(depSlot(d, keys[i]));
      fresh.push(isSnapshot(d));
    });
    // What the parent let go of is dropped when this job runs: jobs that arrived earlier (and run
    // earlier) may still need it. A dependency sent again meanwhile is a new one and stays.
    if (bundle.forget?.length) this.forgetting.set(bundle, bundle.forget.flatMap((k) => {
      const h = this.held.get(k);
      return h === undefined ? [] : [[k, h] as [string, Held]];
    }));
    const previous = this.entries.get(hash);
    this.entries.set(hash, {
      fn: previous?.fn ?? null, source: bundle.fn, module: bundle.module,
      filename: bundle.filename ?? `tspool-task-${hash.slice(0, 8)}.js`, keys, slots, fresh, missing,
    });
  }

  /** Whether the global of a bundle's i-th dependency holds it, as this call needs it. */
  private inPlace(e: Entry, i: number, call: number | undefined): boolean {
    const slot = e.slots[i];
    return this.installed.get(slot) === e.keys[i] && (!e.fresh[i] || this.installedFor.get(slot) === call);
  }

  /** The function of a bundle whose deps are all in place, or null if work is needed. */
  ready(code: CodeMessage): AnyFn | null {
    const e = this.entries.get(code.hash);
    if (!e || !e.fn || (code.bundle && this.forgetting.has(code.bundle))) return null;
    for (let i = 0; i < e.keys.length; i++) if (!this.inPlace(e, i, code.call)) return null;
    return e.fn;
  }

  /** Ensures the bundle's deps are installed (snapshots afresh for a new call) and its function compiled. */
  async prepare(code: CodeMessage): Promise<AnyFn> {
    const e = this.entries.get(code.hash);
    if (!e) throw new Error(`internal: code bundle ${code.hash} was never sent to this worker`);
    if (code.bundle) this.letGo(code.bundle);
    if (e.missing !== undefined) throw new Error(`internal: a task referred to dependency ${e.missing}, which this worker never received`);
    let reinstalled = false;
    for (let i = 0; i < e.keys.length; i++) {
      const slot = e.slots[i];
      const key = e.keys[i];
      // a script (e.g. a fix-up of the data before it) runs again when what came before it changed
      if (this.inPlace(e, i, code.call) && !(reinstalled && slot.startsWith("script:"))) continue;
      const h = this.held.get(key);
      if (h === undefined) throw new Error(`internal: dependency ${slot} (${key}) was let go on this worker before a task that needs it`);
      await this.installDep(h, e.filename);
      this.installed.set(slot, key);
      if (e.fresh[i]) this.installedFor.set(slot, code.call);
      reinstalled = true;
    }
    if (!e.fn) {
      // on failure the bundle stays without a function: the parent sends only the hash next
      // time, and the same error comes back (or success, if e.g. a module file was fixed)
      if (e.module) {
        const ns = await importSpecifier(e.module.url);
        const f = e.module.export === "*" ? ns : ns[e.module.export];
        if (typeof f !== "function") {
          throw new TypeError(`module ${e.module.url} has no function export "${e.module.export}" (exports: ${Object.keys(ns).join(", ") || "none"})`);
        }
        e.fn = f as AnyFn;
      } else {
        e.fn = compileFunction(e.source ?? "", e.filename);
      }
    }
    return e.fn;
  }

  /** Drops what a bundle's message said the worker may let go of (unless it was sent again since). */
  private letGo(bundle: WireBundle): void {
    const list = this.forgetting.get(bundle);
    if (!list) return;
    this.forgetting.delete(bundle);
    for (const [key, h] of list) if (this.held.get(key) === h) this.held.delete(key);
  }

  private async installDep(h: Held, filename: string): Promise<void> {
    const g = globalThis as Record<string, unknown>;
    const d = h.dep;
    if (isSnapshot(d)) {
      // deserialized once; the snapshot's bytes are let go then (its typed arrays may still view them)
      if (!h.pristine) {
        h.pristine = new Pristine(deserialize(d.snapshot));
        h.dep = { name: d.name, snapshot: EMPTY };
      }
      g[d.name] = h.pristine.copy();
    } else if ("script" in d) runScript(d.script, filename);
    else if ("js" in d) g[d.name] = runScript(`(${d.js}\n)`, filename);
    else if ("import" in d) {
      const ns = await importSpecifier(d.import);
      g[d.name] = exported(d.import, ns, d.imported, d.name);
      if (d.member !== undefined) g[d.name] = member(g[d.name], d.member, `${d.import} (its export "${d.imported}")`, d.name);
    } else if ("require" in d) {
      const mod = requireHere()(d.require) as unknown;
      g[d.name] = d.member === undefined ? mod : member(mod, d.member, d.require, d.name);
    } else g[d.name] = await decodeInWorker(d.value, this.env);
  }

  /** Records that a plain push replaced a global, so a dep of the same name is reinstalled when needed. */
  overwritten(name: string): void {
    this.installed.delete(name);
    this.installedFor.delete(name);
  }
}
