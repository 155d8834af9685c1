/**
 * Where tspool is installed and which versions of itself and of TypeScript it runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, "utf8")).name === "tspool") return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("tspool: cannot find its own package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Absolute path of the tspool package (the folder holding package.json and dist/). */
export const packageRoot: string = findPackageRoot();

export const tspoolVersion: string = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")).version;

export const typescriptVersion: string = (() => {
  try {
    const req = createRequire(join(packageRoot, "package.json"));
    return JSON.parse(readFileSync(req.resolve("typescript/package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
})();

/** The compiled CLI entry (what kernelspecs run). */
export const cliPath: string = join(packageRoot, "dist", "cli.js");
