/**
 * `%%pool map ITERABLE [options]` and `%%pool starmap ...`: evaluates ITERABLE in the kernel and
 * the body into a function, ships the function with what it captures, runs it across the
 * notebook pool with a live per-worker display, and answers with the results (input order unless
 * --unordered), also held in `_` and, with --out, in a typed binding.
 */
import type { ExecuteError, ExecuteOk } from "../kernel/executor/protocol.js";
import type { Pool } from "../farm/pool.js";
import type { TaskCode } from "../farm/task-code.js";
import type { CellMagic } from "./parse.js";
import { MagicUsageError, usageError } from "./parse.js";
import type { MagicSession } from "./session-api.js";
import { evaluateMapFunction } from "./map-body.js";
import { classAwareCall } from "./class-instances.js";
import { toItems } from "./map-items.js";
import { functionTask } from "./make-task.js";
import { createNotebookPool } from "./notebook-pool.js";
import { MapProgress } from "./map-progress.js";
import { LiveMapDisplay } from "./live-display.js";
import { MapWatch } from "./map-watch.js";
import { poolErrorToExecuteError } from "./task-errors.js";
import { bindOut, outNameError, resultOf } from "./cell-results.js";
import { functionPositionMapper } from "./source-position.js";
import { withCellPositions } from "./cell-positions.js";
import { watchCellOutput, type CellOutputWatch } from "./cell-output-watch.js";
import { watchInterrupts, type InterruptWatch } from "./cell-interrupt.js";
import { inCompletionOrder } from "./unordered-results.js";
import { workerContext } from "./worker-declarations.js";

type MapMagic = Extract<CellMagic, { kind: "pool-map" }>;

export async function runPoolMap(session: MagicSession, magic: MapMagic, parent: string): Promise<ExecuteOk | ExecuteError> {
  // Whether the cell prints anything of its own (ITERABLE, body): its live display is then not
  // its only output (see LiveMapDisplay.finish).
  const watch = watchCellOutput(parent);
  try {
    return await mapCell(session, magic, parent, watch, watchInterrupts(session));
  } finally {
    watch.stop();
  }
}

/**
 * Every await is followed by a check of `interrupt`: an interrupted cell has ended, and its map
 * must neither start, nor write to the cell, nor bind its results.
 */
async function mapCell(session: MagicSession, magic: MapMagic, parent: string, watch: CellOutputWatch, interrupt: InterruptWatch): Promise<ExecuteOk | ExecuteError> {
  const form = magic.star ? "%%pool starmap" : "%%pool map";
  const opts = magic.options;
  const cellName = `cell[${session.executionCount}]`;
  const outProblem = opts.out === undefined ? undefined : outNameError(session, form, opts.out);
  if (outProblem) return outProblem;

  // The ITERABLE, evaluated in the kernel as a cell expression on the magic's line.
  const it = await session.evaluateCell(magic.iterable, { parent, lineOffset: magic.lineOffset - 1 });
  if (it.status !== "ok") return it;
  let items: readonly unknown[] | ArrayLike<number>;
  try {
    items = await toItems(it.value, form, magic.star, interrupt);
  } catch (e) {
    if (e instanceof MagicUsageError) return usageError(e.message);
    throw e;
  }
  interrupt.check();

  // The function, from the body. It may use what `%%pool run` cells left on the workers.
  const nb = createNotebookPool(session);
  const onWorkers = [...nb.workerGlobals];
  const mf = await evaluateMapFunction(session, magic.body, magic.lineOffset, parent, form, { iterable: magic.iterable, star: magic.star }, opts.out !== undefined, workerContext(nb, magic.body));
  if ("status" in mf) return mf;
  interrupt.check();
  const filename = `tspool-${magic.star ? "starmap" : "map"}-${session.executionCount}`;
  let task: TaskCode;
  try {
    task = functionTask(mf.fn, { bindings: session.bindings, exclude: onWorkers, sharedMemory: nb.threadWorkers }, filename);
  } catch (e) {
    return poolErrorToExecuteError(e);
  }
  const st = mf.sourceText;
  const map = st && functionPositionMapper(st.text, task.fn, { line: magic.lineOffset + st.line, column: st.column });
  // Instances of notebook classes among the items and results keep their classes.
  const classAware = classAwareCall(task, items as readonly unknown[], magic.star, { bindings: session.bindings, scope: globalThis as Record<string, unknown> });
  items = classAware.items;
  // Stack traces on the workers in cell terms, for all the code the task ships (the classes only
  // the items name included): the function written in the body maps through its own text; one
  // named from an earlier cell is found in that cell's script.
  task = withCellPositions(classAware.task, session, { fn: map && { cell: cellName, map }, name: mf.fn.name });

  const progress = new MapProgress(form, items.length);
  const live = new LiveMapDisplay(progress, { parent, emit: (e) => session.emit(e), timeline: opts.timeline });
  let streamed = false; // worker lines that left the display went out as the cell's stream output
  // With other outputs (lines the cell printed, or worker lines beyond what the display keeps,
  // sent as streams) the display is updated in place only: clearing would erase those lines in
  // notebooks, and re-sending them would print them twice in consoles, which already showed
  // them as they came. An interrupt may already have ended the cell with its error: clearing
  // would erase that too.
  const alone = () => !streamed && !watch.wrote && progress.stopReason !== "interrupted" && !interrupt.interrupted;
  const abort = new AbortController();
  const mapWatch = new MapWatch({
    progress, live, abort, timeoutMs: opts.timeout,
    overflow: (name, text) => {
      streamed = true;
      session.emit({ type: "stream", parent, name, text });
    },
    end: () => live.finish({ alone: alone() }),
  });
  live.start();

  const mapOptions = {
    chunksize: opts.timeout !== undefined && opts.chunksize === undefined ? 1 : opts.chunksize,
    signal: abort.signal,
    retries: opts.retries, // this call's, without touching the pool's (other calls may be running)
  };
  // --unordered runs the same map and orders the results afterwards (see unordered-results.ts).
  const start = (farm: Pool, tag: symbol): Promise<unknown[]> => {
    mapWatch.attach(farm);
    const call = { ...mapOptions, tag };
    return magic.star
      ? farm.starmap(task, items as readonly unknown[][], call)
      : farm.map(task, items as readonly unknown[], call);
  };

  let results: unknown[];
  try {
    results = await nb.tracked("map", parent, start, mapWatch.observer);
  } catch (e) {
    const error = poolErrorToExecuteError(e);
    const reason = error.ename === "Interrupted" ? "interrupted" : error.ename === "TaskTimeoutError" ? "timed out" : "failed";
    // The summary says what became of the tasks still running; it is shown before the cell ends.
    await mapWatch.stop(reason);
    return error;
  }
  if (interrupt.interrupted) {
    // The interrupt came as the last results did: the cell has ended, the map with it.
    await mapWatch.stop("interrupted");
    interrupt.check();
  }
  mapWatch.finish();
  if (opts.unordered) results = inCompletionOrder(results, progress.spans);
  if (classAware.decode !== undefined) results = results.map(classAware.decode);

  if (opts.out) {
    const err = await bindOut(session, parent, opts.out, results, mf.typeName ? `Awaited<ReturnType<typeof ${mf.typeName}>>[]` : "any[]");
    if (err) return err;
  }
  interrupt.check();
  return resultOf(session, results);
}
