/**
 * The ambient declarations every cell is type-checked against: the display API, `input`,
 * `clearOutput`, the notebook's default `pool`, `_` and `require`. Built as text because it
 * points at the compiled declaration files of this install (absolute paths), so the types are
 * written once, in kernel/display/index.ts and magics/notebook-pool.ts.
 */
import { existsSync } from "node:fs";
import { displayModule, notebookPoolModule } from "./paths.js";

export function cellGlobalsDeclarations(): string {
  const display = JSON.stringify(displayModule);
  const poolDts = notebookPoolModule.replace(/\.js$/, ".d.ts");
  const poolType = existsSync(poolDts)
    ? `ReturnType<typeof import(${JSON.stringify(notebookPoolModule)}).createNotebookPool>`
    : "any";
  return [
    `/** Show a value as rich output (HTML, images, charts, ...) below the cell. */`,
    `declare var display: typeof import(${display}).display;`,
    `/** Clear this cell's output; with { wait: true } only when new output arrives. */`,
    `declare var clearOutput: typeof import(${display}).clearOutput;`,
    `/** Ask the user for a line of text through the frontend (stdin channel). */`,
    `declare var input: typeof import(${display}).input;`,
    `/** The notebook's default worker pool (started on first use). */`,
    `declare var pool: ${poolType};`,
    `/** The value of the last cell that produced a result. */`,
    `declare var _: any;`,
    ``,
  ].join("\n");
}
