/**
 * Imported on a pool worker before the first of the notebook's own TypeScript modules (capture.ts
 * adds it as a dependency ahead of such an import): registers there the loader the kernel uses for
 * cells' `.ts` imports, so a function using `area` from `import { area } from './shapes.ts'` runs
 * on the workers as it does in the kernel. Workers that never need it never load it.
 */
import { ensureTypeScriptLoader } from "../kernel/executor/typescript-loader-registration.js";

ensureTypeScriptLoader();
