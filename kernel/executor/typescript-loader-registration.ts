/**
 * Registers the TypeScript loader hooks (typescript-loader.ts) the first time a cell imports a
 * `.ts` file of the notebook, so kernels that never do so pay nothing for them.
 */
import { register } from "node:module";

let registered = false;

export function ensureTypeScriptLoader(): void {
  if (registered) return;
  registered = true;
  register(new URL("./typescript-loader.js", import.meta.url));
}

/**
 * Whether a module URL is one of the notebook's own TypeScript files (`.ts`/`.mts`/`.tsx` outside
 * node_modules), which the loader transpiles. (typescript-loader.ts keeps its own copy: the hooks
 * run in the loader's thread, which should not load this module.)
 */
export function isNotebookTypeScript(url: string): boolean {
  return url.startsWith("file:") && /\.(ts|mts|tsx)$/.test(new URL(url).pathname) && !url.includes("/node_modules/");
}

/** Wraps a module URL resolver so that resolving a notebook `.ts` file registers the loader. */
export function withTypeScriptLoader(resolveUrl: (specifier: string) => string): (specifier: string) => string {
  return (specifier) => {
    const url = resolveUrl(specifier);
    if (isNotebookTypeScript(url)) ensureTypeScriptLoader();
    return url;
  };
}
