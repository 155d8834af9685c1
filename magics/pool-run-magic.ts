/**
 * `%%pool run [--targets LIST] [--out NAME]`: the body, type-checked like a cell and compiled as a
 * script, runs in the global scope of every (listed) worker. What it declares stays on the
 * workers for later cells: later `%%pool run` and `%%pool map` bodies may use those names (typed
 * as they were declared on the workers, see worker-declarations.ts), and they are never
 * overwritten by a kernel value of the same name.
 * The result is each worker's last-expression value, in worker-id order.
 */
import type { ExecuteError, ExecuteOk } from "../kernel/executor/protocol.js";
import { usageError, type CellMagic } from "./parse.js";
import type { MagicSession } from "./session-api.js";
import { createNotebookPool } from "./notebook-pool.js";
import { captureDependencies } from "./capture.js";
import { classAwareCall } from "./class-instances.js";
import { poolErrorToExecuteError } from "./task-errors.js";
import { bindOut, outNameError, resultOf } from "./cell-results.js";
import { scriptWithPositions, withCellPositions } from "./cell-positions.js";
import { runBodyDeclarations, runBodyHasValue, runBodyValueType } from "../kernel/compiler/run-body-typing.js";
import { workerContext, workerDeclarations } from "./worker-declarations.js";
import { watchInterrupts } from "./cell-interrupt.js";

type RunMagic = Extract<CellMagic, { kind: "pool-run" }>;

export async function runPoolRun(session: MagicSession, magic: RunMagic, parent: string): Promise<ExecuteOk | ExecuteError> {
  // An interrupt ends the cell: whatever this magic awaited, it must not run the body afterwards.
  const interrupt = watchInterrupts(session);
  const outProblem = magic.out === undefined ? undefined : outNameError(session, "%%pool run", magic.out);
  if (outProblem) return outProblem;
  const nb = createNotebookPool(session);
  // Names earlier run cells left on the workers are typed as they were declared there.
  const checkContext = workerContext(nb, magic.body);
  // The script runs under `filename`, which the session's stack mapper then maps to the cell.
  const filename = `tspool-run-${session.executionCount}`;
  const compiled = session.compileForWorker(magic.body, { lineOffset: magic.lineOffset, checkContext, filename });
  if (compiled.status !== "ok") return compiled;
  const own = new Set(compiled.declared);
  const declarations = own.size ? runBodyDeclarations(session, magic.body, checkContext) : undefined;

  let deps;
  try {
    deps = captureDependencies(compiled.js, {
      bindings: session.bindings,
      scope: globalThis as Record<string, unknown>,
      exclude: [...nb.workerGlobals, ...own],
      sharedMemory: nb.threadWorkers,
    });
  } catch (e) {
    return poolErrorToExecuteError(e);
  }
  // The script registers its cell positions for the workers' stack traces and runs under
  // `filename` (see cell-positions.ts); the session's stack mapper knows its source map.
  const cell = `cell[${session.executionCount}]`;
  const script = scriptWithPositions({ file: filename, code: compiled.js, cell, map: (line, column) => session.stacks.position(filename, line, column) });
  const run = `(0, eval)(${JSON.stringify(script)})`;
  // The script's completion value is its last statement's: a body that ends with a declaration
  // gives undefined instead (`function f() {}` would give the function, which cannot come back).
  const fn = runBodyHasValue(magic.body) ? `() => ${run}` : `async () => { await ${run}; }`;
  // Stack traces on the workers in cell terms for what the body takes along; the function that
  // evals the body is tspool's own.
  const positioned = withCellPositions({ fn, deps, filename: `${filename}-task` }, session, { fn: null });
  // Instances of notebook classes the body returns come back with their class, as map results do.
  const classAware = classAwareCall(positioned, [], false, {
    bindings: session.bindings,
    scope: globalThis as Record<string, unknown>,
  });
  const task = classAware.task;

  if (!nb.started) await nb.start();
  interrupt.check();
  const size = nb.size;
  if (magic.targets) {
    const bad = magic.targets.filter((t) => t >= size);
    if (bad.length) {
      return usageError(`\`%%pool run --targets ${magic.targets.join(",")}\`: the pool has workers 0..${size - 1}, so ${bad.map((b) => `worker ${b}`).join(", ")} does not exist; use \`%pool start ${Math.max(...bad) + 1}\` to add workers.`);
    }
  }

  let values: unknown[];
  try {
    values = await nb.tracked("run", parent, (farm, tag) => farm.run(task, { targets: magic.targets, tag }));
  } catch (e) {
    return poolErrorToExecuteError(e);
  } finally {
    const known = workerDeclarations(nb);
    for (const n of own) {
      nb.workerGlobals.add(n);
      known.set(n, declarations?.get(n) ?? { kind: "var", type: "any" });
    }
  }
  interrupt.check();
  if (classAware.decode !== undefined) values = values.map(classAware.decode);
  if (magic.out) {
    // Each worker's value has the type of the body's last expression (any when unknown).
    const valueType = runBodyValueType(session, magic.body, checkContext);
    const err = await bindOut(session, parent, magic.out, values, valueType === undefined ? "undefined[]" : `Awaited<${valueType}>[]`);
    if (err) return err;
  }
  interrupt.check();
  if (values.every((v) => v === undefined)) return { status: "ok" };
  return resultOf(session, values);
}
