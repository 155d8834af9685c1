/**
 * The TypeScript compiler API as the kernel's modules use it (`import ts from "./typescript.cjs"`).
 * Loaded with require, not `import "typescript"`: Node's ESM loader would first scan all of
 * typescript.js for its module format and its export names (about 300 ms measured), and the
 * preload gives the load a V8 code cache.
 */
import preload = require("./typescript-preload.cjs");
preload.loadTypeScript();
import ts = require("typescript");
export = ts;
