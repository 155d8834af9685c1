/**
 * Where a value comes from when it is a module, or one of a module's exports, that the notebook
 * loaded: such a value travels to the workers as that module, loaded again there, instead of as
 * its source or its data (which cannot work: a module's functions use the module's own variables).
 *   - the notebook's imports: `const j = path.join` after `import path from "node:path"`, or a
 *     function imported under one name and kept under another;
 *   - CommonJS: `const ms = require("ms")`, `const { join } = require("node:path")`, found in
 *     Node's require cache (by file) or among the built-in modules loaded so far.
 * Only a module itself and its direct exports are recognised (that is what `require` and
 * destructuring give); a value made by a module's function is not the module's.
 */
import { builtinModules, createRequire } from "node:module";

/** An import of the notebook (its URL and export, as the binding registry records it), or one export of that. */
export interface ImportOrigin { import: string; imported: string; member?: string }
/** A CommonJS module: an absolute file name or `node:<builtin>`, or one export of it. */
export interface RequireOrigin { require: string; member?: string }
export type ModuleOrigin = ImportOrigin | RequireOrigin;

/** The notebook's import bindings and their current values. */
export interface ImportBindings {
  all(): { name: string; kind: string; ambient?: boolean; importSpec?: { url: string; imported: string } }[];
}

const requireCache = createRequire(import.meta.url).cache;
const loadList = (process as { moduleLoadList?: string[] }).moduleLoadList;

/** The module a value is, or whose export it is: first among the notebook's imports, then among CommonJS modules. */
export function moduleOrigin(value: unknown, imports: ImportBindings | undefined, scope: Record<string, unknown>): ModuleOrigin | undefined {
  if (!isReference(value)) return undefined;
  return importOrigin(value, imports, scope) ?? commonJsModules().get(value);
}

function isReference(v: unknown): v is object {
  return (typeof v === "object" && v !== null) || typeof v === "function";
}

function importOrigin(value: object, imports: ImportBindings | undefined, scope: Record<string, unknown>): ImportOrigin | undefined {
  if (!imports) return undefined;
  const modules = imports.all().filter((b) => b.kind === "import" && !b.ambient && b.importSpec);
  for (const b of modules) if (scope[b.name] === value) return { import: b.importSpec!.url, imported: b.importSpec!.imported };
  for (const b of modules) {
    const member = memberHolding(scope[b.name], value);
    if (member !== undefined) return { import: b.importSpec!.url, imported: b.importSpec!.imported, member };
  }
  return undefined;
}

function memberHolding(container: unknown, value: object): string | undefined {
  if (!isReference(container)) return undefined;
  for (const k of Object.keys(container)) {
    try {
      if ((container as Record<string, unknown>)[k] === value) return k;
    } catch {
      // a getter that throws: not this one
    }
  }
  return undefined;
}

/** Modules and their exports, by value; rebuilt when more modules have been loaded. */
let index: Map<unknown, RequireOrigin> | null = null;
let indexedFor = "";

function commonJsModules(): Map<unknown, RequireOrigin> {
  const files = Object.keys(requireCache);
  const stamp = `${files.length}/${loadList?.length ?? 0}`;
  if (index && stamp === indexedFor) return index;
  const modules: [spec: string, exports: unknown][] = [];
  for (const file of files) modules.push([file, requireCache[file]?.exports]);
  for (const name of loadedBuiltins()) {
    try {
      modules.push([`node:${name}`, createRequire(import.meta.url)(`node:${name}`)]);
    } catch {
      // not loadable by that name
    }
  }
  const found = new Map<unknown, RequireOrigin>();
  // a module itself first, then the exports of each (the first module that has a value keeps it)
  for (const [spec, exports] of modules) if (isReference(exports) && !found.has(exports)) found.set(exports, { require: spec });
  for (const [spec, exports] of modules) {
    if (!isReference(exports)) continue;
    for (const k of Object.keys(exports)) {
      let v: unknown;
      try {
        v = (exports as Record<string, unknown>)[k];
      } catch {
        continue;
      }
      if (isReference(v) && !found.has(v)) found.set(v, { require: spec, member: k });
    }
  }
  index = found;
  indexedFor = stamp;
  return found;
}

/**
 * The public built-in modules this process has loaded (Node lists what it loaded in
 * `process.moduleLoadList`). Only those are looked at: loading the others would cost time, and
 * some print deprecation or experimental warnings when loaded.
 */
function loadedBuiltins(): string[] {
  if (!loadList) return [];
  const loaded = new Set(loadList.filter((e) => e.startsWith("NativeModule ")).map((e) => e.slice("NativeModule ".length)));
  return builtinModules.filter((name) => !name.startsWith("_") && loaded.has(name));
}
