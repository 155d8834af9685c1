/**
 * What imports in shipped code need on a worker besides the modules themselves:
 *   - the notebook's own TypeScript files need the kernel's TypeScript loader there (registered
 *     by a small module the worker imports first, worker-typescript-loader.ts);
 *   - a cell's `import(x)` is compiled to `import(__tspool_resolve(x))` (RESOLVE_GLOBAL), so that
 *     it finds modules as the kernel does; on a worker that resolver maps the specifiers the code
 *     names to the URLs the kernel resolves them to.
 */
import { RESOLVE_GLOBAL } from "../kernel/compiler/cell-script.js";

/** A dependency that registers the kernel's TypeScript loader on a worker, to ship ahead of the imports that need it. */
export const TYPESCRIPT_LOADER = {
  name: "__tspool_typescript_loader",
  import: new URL("./worker-typescript-loader.js", import.meta.url).href,
  imported: "*",
} as const;

export { RESOLVE_GLOBAL };

/** Each specifier with the URL the kernel's resolver (a global of `scope`) gives it; unknown ones stay as they are. */
export function kernelResolutions(specifiers: Iterable<string>, scope: Record<string, unknown>): Map<string, string> {
  const kernelResolve = scope[RESOLVE_GLOBAL];
  const urls = new Map<string, string>();
  for (const spec of specifiers) {
    let url = spec;
    if (typeof kernelResolve === "function") {
      try {
        url = String(kernelResolve(spec));
      } catch {
        // import() reports it on the worker in its own words
      }
    }
    urls.set(spec, url);
  }
  return urls;
}

/** The resolver for a worker: the specifiers in `urls` map to their URLs, anything else passes through. */
export function workerResolver(urls: Map<string, string>): { name: string; js: string } {
  const table = JSON.stringify(Object.fromEntries(urls));
  return { name: RESOLVE_GLOBAL, js: `((table) => (s) => typeof s === "string" && Object.hasOwn(table, s) ? table[s] : s)(${table})` };
}
