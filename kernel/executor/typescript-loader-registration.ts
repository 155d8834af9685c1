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

/** Wraps a module URL resolver so that resolving a notebook `.ts` file registers the loader. */
export function withTypeScriptLoader(resolveUrl: (specifier: string) => string): (specifier: string) => string {
  return (specifier) => {
    const url = resolveUrl(specifier);
    if (url.startsWith("file:") && /\.(ts|mts|tsx)$/.test(new URL(url).pathname) && !url.includes("/node_modules/")) ensureTypeScriptLoader();
    return url;
  };
}
