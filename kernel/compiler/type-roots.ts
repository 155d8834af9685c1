/**
 * Where the declaration packages every cell is checked with (`@types/<name>`, the compiler
 * option `types`) are installed. They are dependencies of tspool, so they are found the way Node
 * finds tspool's own dependencies: from tspool's package upwards. npm hoists them out of tspool's
 * folder when tspool is installed into a project (`<project>/node_modules/@types/node`), and keeps
 * them nested only where a project needs another version.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { packageRoot } from "./paths.js";

/** The `@types` folders holding each of `names` (`node` -> the folder holding `node/`), in order, each once. */
export function typeRootsFor(names: readonly string[]): string[] {
  const require = createRequire(join(packageRoot, "package.json"));
  const roots = new Set<string>();
  for (const name of names) {
    try {
      // <root>/@types/<name>/package.json -> <root>/@types
      roots.add(dirname(dirname(require.resolve(`@types/${name}/package.json`))));
    } catch {
      // not installed: the checker then reports the missing globals, as TypeScript would
    }
  }
  // Where an unhoisted install keeps them, so that a missing package is looked for somewhere sensible.
  if (roots.size === 0) roots.add(join(packageRoot, "node_modules", "@types"));
  return [...roots];
}
