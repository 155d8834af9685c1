/**
 * `require` in cells: CommonJS resolution from the notebook's directory first, then from the
 * kernel's own install (the same order as `import`).
 */
import { join } from "node:path";
import { packageRoot } from "../compiler/paths.js";
import { requireWithFallback } from "../../farm/require-with-fallback.js";

export function notebookRequire(filename: string): NodeRequire {
  return requireWithFallback(filename, join(packageRoot, "package.json"));
}
