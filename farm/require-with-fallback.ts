/**
 * A CommonJS `require` that resolves as a file `filename` would, and for a package found nowhere
 * from there, from a second place (tspool's own install): the order cells use for `import` too.
 * Used for `require` in notebook cells and in workers.
 */
import { createRequire } from "node:module";

export function requireWithFallback(filename: string, fallbackFilename: string): NodeRequire {
  const local = createRequire(filename);
  const other = createRequire(fallbackFilename);
  const fallback = <T>(id: string, own: () => T, alt: () => T): T => {
    try {
      return own();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND" || id.startsWith(".") || id.startsWith("/")) throw err;
      try {
        return alt();
      } catch {
        throw err; // not found anywhere: report it as `filename` sees it
      }
    }
  };
  const req = ((id: string) => fallback(id, () => local(id), () => other(id))) as NodeRequire;
  const resolve = ((id: string, options?: { paths?: string[] }) =>
    fallback(id, () => local.resolve(id, options), () => other.resolve(id, options))) as NodeRequire["resolve"];
  resolve.paths = (id: string) => local.resolve.paths(id);
  req.resolve = resolve;
  req.cache = local.cache;
  req.extensions = local.extensions;
  req.main = local.main;
  return req;
}
