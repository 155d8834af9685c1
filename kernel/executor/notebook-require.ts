/**
 * `require` in cells: CommonJS resolution from the notebook's directory first, then from the
 * kernel's own install (the same order as `import`).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "../compiler/paths.js";

export function notebookRequire(filename: string): NodeRequire {
  const local = createRequire(filename);
  const kernel = createRequire(join(packageRoot, "package.json"));
  const fallback = <T>(id: string, own: () => T, other: () => T): T => {
    try {
      return own();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND" || id.startsWith(".") || id.startsWith("/")) throw err;
      try {
        return other();
      } catch {
        throw err; // not found anywhere: report it as the notebook's directory sees it
      }
    }
  };
  const req = ((id: string) => fallback(id, () => local(id), () => kernel(id))) as NodeRequire;
  const resolve = ((id: string, options?: { paths?: string[] }) =>
    fallback(id, () => local.resolve(id, options), () => kernel.resolve(id, options))) as NodeRequire["resolve"];
  resolve.paths = (id: string) => local.resolve.paths(id);
  req.resolve = resolve;
  req.cache = local.cache;
  req.extensions = local.extensions;
  req.main = local.main;
  return req;
}
