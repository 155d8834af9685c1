/** Where the kernel's own files are, wherever the package is installed. */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url)); // <package>/dist/kernel/compiler
/** The compiled tree: `<package>/dist`. */
export const distRoot = resolve(here, "..", "..");
/** The installed package: the directory holding package.json and node_modules. */
export const packageRoot = resolve(distRoot, "..");
/** The compiled display API and its tslab-compatible face (module and declarations). */
export const displayModule = resolve(distRoot, "kernel", "display", "index.js");
export const tslabModule = resolve(distRoot, "kernel", "display", "tslab.js");
export const tslabDeclarations = resolve(distRoot, "kernel", "display", "tslab.d.ts");
/** The notebook pool of the magics (may not exist yet in a partial build). */
export const notebookPoolModule = resolve(distRoot, "magics", "notebook-pool.js");
