/**
 * Where a cell's `import "x"` loads from at run time: the URL handed to `import()`.
 * Node builtins as they are; "tslab" -> tspool's compatible module; relative and absolute paths
 * from the notebook's directory (the notebook's own `.ts` files too, extension optional, loaded
 * through the executor's TypeScript loader hooks); packages from the notebook's directory first, then the
 * kernel's own install. Packages are resolved the way `import` would resolve them (their
 * `exports` with the conditions node/import/default, else `main`), so ESM-only packages load.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot, tslabModule } from "./paths.js";

const BUILTINS = new Set(builtinModules);
const CONDITIONS = ["node", "import", "module-sync", "default"];

export class ModuleNotFound extends Error {
  override name = "ModuleNotFound";
}

let self: string | undefined;
function selfName(): string {
  self ??= (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { name: string }).name;
  return self;
}

function packageNameOf(spec: string): { name: string; subpath: string } {
  const parts = spec.split("/");
  const n = spec.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, n).join("/");
  const rest = parts.slice(n).join("/");
  return { name, subpath: rest ? `./${rest}` : "." };
}

function findPackageDir(name: string, from: string): string | undefined {
  if (name === selfName() && from === packageRoot) return packageRoot; // "tspool" from the kernel itself
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Resolve a target of package.json `exports` (string, condition object, or array). */
function pickTarget(target: unknown, star?: string): string | undefined {
  if (typeof target === "string") return star === undefined ? target : target.split("*").join(star);
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = pickTarget(t, star);
      if (r) return r;
    }
    return undefined;
  }
  if (target && typeof target === "object") {
    for (const [cond, value] of Object.entries(target)) {
      if (CONDITIONS.includes(cond)) {
        const r = pickTarget(value, star);
        if (r) return r;
      }
    }
  }
  return undefined;
}

function resolveExports(exportsField: unknown, subpath: string): string | undefined {
  const isSubpathMap =
    exportsField && typeof exportsField === "object" && !Array.isArray(exportsField) &&
    Object.keys(exportsField).some((k) => k.startsWith("."));
  const map: Record<string, unknown> = isSubpathMap ? (exportsField as Record<string, unknown>) : { ".": exportsField };
  if (subpath in map) return pickTarget(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const head = key.slice(0, star);
    const tail = key.slice(star + 1);
    if (subpath.startsWith(head) && subpath.endsWith(tail) && subpath.length >= key.length - 1)
      return pickTarget(value, subpath.slice(head.length, subpath.length - tail.length));
  }
  return undefined;
}

function resolvePackage(spec: string, from: string): string | undefined {
  const { name, subpath } = packageNameOf(spec);
  const dir = findPackageDir(name, from);
  if (!dir) return undefined;
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports?: unknown };
  if (pkg.exports !== undefined) {
    const target = resolveExports(pkg.exports, subpath);
    if (target) return join(dir, target);
  }
  // No `exports` (or no match): CommonJS resolution (main, index.js, extensions).
  try {
    return createRequire(join(from, "__tspool_resolve.js")).resolve(spec);
  } catch {
    return undefined;
  }
}

/** The notebook's own TypeScript module a path means: `x` or `x.js` -> `x.ts`, `x/` -> `x/index.ts`. */
function typeScriptFile(abs: string): string | undefined {
  const stem = abs.replace(/\.(m?js|jsx)$/, "");
  for (const candidate of [`${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, join(abs, "index.ts")])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return undefined;
}

export function createModuleUrlResolver(notebookDir: string): (specifier: string) => string {
  const cache = new Map<string, string>();
  return (spec: string) => {
    const cached = cache.get(spec);
    if (cached) return cached;
    let url: string | undefined;
    if (spec === "tslab") url = pathToFileURL(tslabModule).href;
    else if (spec.startsWith("node:") || BUILTINS.has(spec)) url = spec;
    else if (/^(file|data|https?):/.test(spec)) url = spec;
    else if (spec.startsWith(".") || isAbsolute(spec)) {
      const abs = resolve(notebookDir, spec);
      let file: string | undefined;
      try {
        file = createRequire(join(notebookDir, "__tspool_resolve.js")).resolve(abs);
      } catch {
        file = existsSync(abs) && statSync(abs).isFile() ? abs : typeScriptFile(abs);
      }
      if (!file) throw new ModuleNotFound(`Cannot find module '${spec}' (looked for ${abs}).`);
      // The notebook's own files change while the kernel runs: a new version is a new URL, so
      // re-running an import cell after editing the file loads the edit (Node caches by URL).
      url = file.includes("/node_modules/") ? pathToFileURL(file).href : `${pathToFileURL(file).href}?mtime=${Math.trunc(statSync(file).mtimeMs)}`;
    } else {
      const file = resolvePackage(spec, notebookDir) ?? resolvePackage(spec, packageRoot);
      if (!file)
        throw new ModuleNotFound(
          `Cannot find package '${spec}' from the notebook's directory (${notebookDir}) nor in the kernel's install; ` +
            `install it there with: npm install ${packageNameOf(spec).name}`,
        );
      url = pathToFileURL(file).href;
    }
    // Paths under node_modules do not change while the kernel runs; notebook-local files may.
    if (!url.startsWith("file:") || url.includes("/node_modules/")) cache.set(spec, url);
    return url;
  };
}
