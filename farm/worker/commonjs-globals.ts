/**
 * What notebook cells have as CommonJS globals, in a worker too: `require` (resolving from the
 * worker's working directory, then from tspool's own install), `__filename` and `__dirname`.
 * The worker runtime is an ES module, which has none of them; code shipped from cells expects them.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { requireWithFallback } from "../require-with-fallback.js";

export function installCommonJsGlobals(): void {
  const filename = join(process.cwd(), "[tspool worker]");
  const own = fileURLToPath(new URL("../../../package.json", import.meta.url)); // dist/farm/worker -> package root
  const values: Record<string, unknown> = {
    require: requireWithFallback(filename, own),
    __filename: filename,
    __dirname: process.cwd(),
  };
  for (const [name, value] of Object.entries(values)) {
    if (name in globalThis) continue;
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
}
