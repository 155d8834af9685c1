/**
 * `%%pool map ITERABLE [options]` and `%%pool starmap ...`: evaluates ITERABLE in the kernel and
 * the body into a function, ships the function with what it captures, runs it across the
 * notebook pool with a live per-worker display, and answers with the results (input order unless
 * --unordered), also held in `_` and, with --out, in a typed binding.
 */
import type { ExecuteError, ExecuteOk } from "../kernel/executor/protocol.js";
import type { OutputEvent, TaskEvent, WorkerEvent } from "../farm/events.js";
import type { Pool } from "../farm/pool.js";
import type { TaskCode } from "../farm/task-code.js";
import type { CellMagic } from "./parse.js";
import { MagicUsageError, usageError } from "./parse.js";
import type { MagicSession } from "./session-api.js";
import { evaluateMapFunction, MAP_FN_NAME } from "./map-body.js";
import { CLASS_AWARE_FN, classAwareCall } from "./class-instances.js";
import { toItems } from "./map-items.js";
import { functionTask } from "./make-task.js";
import { createNotebookPool, type CallObserver } from "./notebook-pool.js";
import { MapProgress } from "./map-progress.js";
import { LiveMapDisplay } from "./live-display.js";
import { poolErrorToExecuteError, type CodeOrigin } from "./task-errors.js";
import { bindOut, resultOf } from "./cell-results.js";
import { functionPositionMapper } from "./source-position.js";
import { watchCellOutput, type CellOutputWatch } from "./cell-output-watch.js";

type MapMagic = Extract<CellMagic, { kind: "pool-map" }>;

class TimeoutError extends Error {
  override name = "TaskTimeoutError";
}

/** The name the mapped function travels under when an unordered starmap wraps it (see spreadTask). */
const STAR_FN_NAME = "__tspool_star_fn";

/** `(args) => f(...args)` for unordered starmap, which the farm offers only in input order. */
function spreadTask(task: TaskCode): TaskCode {
  return { fn: `(args) => ${STAR_FN_NAME}(...args)`, deps: [...(task.deps ?? []), { name: STAR_FN_NAME, js: task.fn }], filename: task.filename };
}

export async function runPoolMap(session: MagicSession, magic: MapMagic, parent: string): Promise<ExecuteOk | ExecuteError> {
  // Whether the cell prints anything of its own (ITERABLE, body): its live display is then not
  // its only output (see LiveMapDisplay.finish).
  const watch = watchCellOutput(parent);
  try {
    return await mapCell(session, magic, parent, watch);
  } finally {
    watch.stop();
  }
}

async function mapCell(session: MagicSession, magic: MapMagic, parent: string, watch: CellOutputWatch): Promise<ExecuteOk | ExecuteError> {
  const form = magic.star ? "%%pool starmap" : "%%pool map";
  const opts = magic.options;
  const cellName = `cell[${session.executionCount}]`;

  // The ITERABLE, evaluated in the kernel as a cell expression on the magic's line.
  const it = await session.evaluateCell(magic.iterable, { parent, lineOffset: magic.lineOffset - 1 });
  if (it.status !== "ok") return it;
  let items: readonly unknown[] | ArrayLike<number>;
  try {
    items = await toItems(it.value, form, magic.star);
  } catch (e) {
    if (e instanceof MagicUsageError) return usageError(e.message);
    throw e;
  }

  // The function, from the body. It may use what `%%pool run` cells left on the workers.
  const nb = createNotebookPool(session);
  const onWorkers = [...nb.workerGlobals];
  const mf = await evaluateMapFunction(session, magic.body, magic.lineOffset, parent, form, { iterable: magic.iterable, star: magic.star }, opts.out !== undefined, onWorkers);
  if ("status" in mf) return mf;
  const filename = `tspool-${magic.star ? "starmap" : "map"}-${session.executionCount}`;
  let task: TaskCode;
  try {
    task = functionTask(mf.fn, { bindings: session.bindings, exclude: onWorkers }, filename);
  } catch (e) {
    return poolErrorToExecuteError(e);
  }
  const fnSource = task.fn;
  // Instances of notebook classes among the items and results keep their classes.
  const classAware = classAwareCall(task, items as readonly unknown[], magic.star, { bindings: session.bindings, scope: globalThis as Record<string, unknown> });
  task = classAware.task;
  items = classAware.items;
  if (magic.star && opts.unordered) task = spreadTask(task);
  const elsewhere = (name: string) => {
    const b = session.bindings.get(name);
    return b ? `cell[${b.cell}]` : undefined;
  };
  let origin: CodeOrigin = { filename, cellName, lineOffset: 0, names: [], elsewhere };
  if (mf.sourceLine !== undefined) {
    const st = mf.sourceText;
    const position = st && functionPositionMapper(st.text, fnSource, { line: magic.lineOffset + st.line, column: st.column });
    origin = {
      ...origin, lineOffset: magic.lineOffset + mf.sourceLine, position,
      names: [mf.fn.name, MAP_FN_NAME, STAR_FN_NAME, CLASS_AWARE_FN].filter((n) => n),
    };
  }

  const progress = new MapProgress(form, items.length);
  const live = new LiveMapDisplay(progress, { parent, emit: (e) => session.emit(e), timeline: opts.timeline });
  live.start();

  let streamed = false; // worker lines that left the display went out as the cell's stream output
  const abort = new AbortController();
  const timers = new Map<number, NodeJS.Timeout>();
  const observer: CallObserver = {
    task(ev: TaskEvent) {
      const first = ev.range ? ev.range[0] : 0;
      const count = ev.range ? ev.range[1] - ev.range[0] : 1;
      if (ev.phase === "start") {
        progress.taskStarted(ev.workerId, first, count, ev.pid);
        if (opts.timeout !== undefined) {
          const t = setTimeout(() => {
            const what = count === 1 ? `item ${first}` : `items ${first}..${first + count - 1}`;
            abort.abort(new TimeoutError(`${what} on worker ${ev.workerId} ran longer than --timeout ${opts.timeout} ms and was stopped`));
          }, opts.timeout);
          t.unref();
          timers.set(ev.job, t);
        }
      } else {
        const t = timers.get(ev.job);
        if (t) clearTimeout(t);
        timers.delete(ev.job);
        if (ev.outcome === "ok" || ev.outcome === "error") progress.taskFinished(ev.workerId, first, count, ev.ms ?? 0, ev.outcome === "ok", ev.pid);
        else progress.taskAbandoned(ev.workerId);
      }
      live.changed();
    },
    output(ev: OutputEvent) {
      // Lines that no longer fit in the display still reach the cell, labelled, as stream output.
      const evicted = progress.output(ev.workerId, ev.stream, ev.text, ev.pid);
      for (const name of ["stdout", "stderr"] as const) {
        const mine = evicted.filter((l) => l.stream === name);
        if (!mine.length) continue;
        streamed = true;
        session.emit({ type: "stream", parent, name, text: mine.map((l) => `[worker ${ev.workerId}] ${l.text}\n`).join("") });
      }
      live.changed();
    },
    workerExit(ev: WorkerEvent) {
      const how = ev.signal ? `was killed by ${ev.signal}` : `exited with code ${ev.exitCode}`;
      progress.output(ev.workerId, "stderr", `(worker ${ev.workerId}, pid ${ev.pid}, ${how}; a new worker takes its place)`);
      live.changed();
    },
  };

  const mapOptions = {
    chunksize: opts.timeout !== undefined && opts.chunksize === undefined ? 1 : opts.chunksize,
    signal: abort.signal,
    retries: opts.retries, // this call's, without touching the pool's (other calls may be running)
  };
  const start = async (farm: Pool, tag: symbol): Promise<unknown[]> => {
    const call = { ...mapOptions, tag };
    if (!opts.unordered) {
      return magic.star
        ? farm.starmap(task, items as readonly unknown[][], call)
        : farm.map(task, items as readonly unknown[], call);
    }
    const out: unknown[] = [];
    for await (const v of farm.imapUnordered(task, items as readonly unknown[], call)) out.push(v);
    return out;
  };

  let results: unknown[];
  try {
    results = await nb.tracked("map", parent, start, observer);
  } catch (e) {
    progress.failed = true;
    const error = poolErrorToExecuteError(e, [origin]);
    // An interrupt may already have ended the cell with its error: clearing now would erase it.
    live.finish({ alone: !streamed && !watch.wrote && error.ename !== "Interrupted" });
    return error;
  } finally {
    for (const t of timers.values()) clearTimeout(t);
  }
  // With other outputs (lines the cell printed, or worker lines beyond what the display keeps,
  // sent as streams) the display is updated in place only: clearing would erase those lines in
  // notebooks, and re-sending them would print them twice in consoles, which already showed
  // them as they came.
  live.finish({ alone: !streamed && !watch.wrote });
  if (classAware.decode !== undefined) results = results.map(classAware.decode);

  if (opts.out) {
    const err = await bindOut(session, parent, opts.out, results, mf.typeName ? `Awaited<ReturnType<typeof ${mf.typeName}>>[]` : "any[]");
    if (err) return err;
  }
  return resultOf(session, results);
}
