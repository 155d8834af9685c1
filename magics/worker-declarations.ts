/**
 * How later cells type the names `%%pool run` cells declared on the workers: the pool keeps the
 * names (NotebookPool.workerGlobals, emptied when the workers are replaced), this module their
 * declarations (kind and type, see kernel/compiler/run-body-typing.ts). A body that uses such a
 * name is checked against the workers' declaration, not against a kernel binding of that name.
 */
import type { NotebookPool } from "./notebook-pool.js";
import { workerNamesContext, type WorkerDeclaration } from "../kernel/compiler/run-body-typing.js";

const byPool = new WeakMap<NotebookPool, Map<string, WorkerDeclaration>>();

/** The declarations run cells made on the pool's workers, by name (only names still in workerGlobals are on the workers). */
export function workerDeclarations(nb: NotebookPool): Map<string, WorkerDeclaration> {
  let m = byPool.get(nb);
  if (!m) byPool.set(nb, (m = new Map()));
  return m;
}

/** The check context that gives `body` the workers' names it uses (see workerNamesContext). */
export function workerContext(nb: NotebookPool, body: string): string | undefined {
  return workerNamesContext(body, nb.workerGlobals, workerDeclarations(nb));
}
