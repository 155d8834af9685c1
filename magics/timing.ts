/**
 * `%time`/`%%time` (run once, report CPU and wall time, keep the result and declarations like an
 * ordinary cell) and `%timeit`/`%%timeit` (run many times: the loop count is chosen like
 * IPython's, growing 1, 2, 5, 10, 20, ... until one run takes at least 0.2 s, then the mean ±
 * standard deviation per loop over the runs is reported).
 */
import ts from "../kernel/compiler/typescript.cjs";
import type { ExecuteError, ExecuteOk } from "../kernel/executor/protocol.js";
import { resultOf } from "./cell-results.js";
import { usageError } from "./parse.js";
import { formatMs } from "./format.js";
import { writeStream, type MagicSession } from "./session-api.js";
import { watchInterrupts, type InterruptWatch } from "./cell-interrupt.js";
import type { SourceEdit } from "../kernel/compiler/source-edits.js";

export async function runTime(session: MagicSession, parent: string, code: string, lineOffset: number): Promise<ExecuteOk | ExecuteError> {
  const r = await timed(session, parent, () => session.evaluateCell(code, { parent, lineOffset }));
  if (r.status !== "ok") return r;
  if (r.value === undefined) return { status: "ok" };
  return resultOf(session, r.value);
}

/**
 * Runs `run`, then prints the CPU and wall time it took (also when it failed, but not when it was
 * interrupted: the cell has ended by then) and returns its answer. `%%time` above a magic (e.g.
 * `%%pool map`) times that magic with it.
 */
export async function timed<T>(session: MagicSession, parent: string, run: () => Promise<T>): Promise<T> {
  const interrupt = watchInterrupts(session);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    return await run();
  } finally {
    if (!interrupt.interrupted) report(session, parent, t0, cpu0);
  }
}

/** "CPU times: ... Wall time: ..." since `t0` and `cpu0`. */
function report(session: MagicSession, parent: string, t0: number, cpu0: NodeJS.CpuUsage): void {
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const user = cpu.user / 1000;
  const sys = cpu.system / 1000;
  writeStream(session, parent, "stdout",
    `CPU times: user ${formatMs(user)}, sys: ${formatMs(sys)}, total: ${formatMs(user + sys)}\nWall time: ${formatMs(wall)}`);
}

export interface TimeitOptions {
  number?: number;
  repeat?: number;
  /** Stop calibrating/repeating beyond about this much total time (ms). */
  budgetMs?: number;
  /** Stops the runs (CellInterrupted) once the cell is interrupted: awaited statements would go on otherwise. */
  interrupt?: InterruptWatch;
}

export interface TimeitStats {
  loops: number;
  runs: number;
  meanMs: number; // per loop
  stdMs: number; // per loop, over runs
  bestMs: number;
}

export function describeTimeit(s: TimeitStats): string {
  const loops = s.loops.toLocaleString("en-US");
  return `${formatMs(s.meanMs)} ± ${formatMs(s.stdMs)} per loop (mean ± std. dev. of ${s.runs} run${s.runs === 1 ? "" : "s"}, ${loops} loop${s.loops === 1 ? "" : "s"} each)`;
}

/** Results of timed calls land here, so the optimiser cannot drop a call whose value is unused. */
let sink: unknown;

/** Times `fn` (sync or async) IPython-style. */
export async function timeit(fn: () => unknown, opts: TimeitOptions = {}): Promise<TimeitStats> {
  const isAsync = fn.constructor?.name === "AsyncFunction";
  const once = async (loops: number): Promise<number> => {
    const t0 = performance.now();
    if (isAsync) {
      for (let i = 0; i < loops; i++) {
        sink = await fn();
        opts.interrupt?.check();
      }
    } else {
      for (let i = 0; i < loops; i++) {
        const r = fn();
        if (r instanceof Promise) {
          sink = await r;
          opts.interrupt?.check();
        } else sink = r;
      }
    }
    return performance.now() - t0;
  };
  let loops = opts.number ?? 0;
  const budget = opts.budgetMs ?? 20_000;
  const times: number[] = [];
  if (!loops) {
    // 1, 2, 5, 10, 20, 50, ... until a run takes >= 200 ms; that run counts as the first.
    for (let scale = 1; ; scale *= 10) {
      let done = false;
      for (const m of [1, 2, 5]) {
        loops = m * scale;
        const t = await once(loops);
        if (t >= 200 || loops >= 1e9) {
          times.push(t);
          done = true;
          break;
        }
      }
      if (done) break;
    }
  }
  const wanted = opts.repeat ?? 7;
  while (times.length < wanted) {
    const spent = times.reduce((a, b) => a + b, 0);
    // Keep very slow statements from taking minutes unless the runs were asked for explicitly.
    if (opts.repeat === undefined && times.length >= 1 && spent + spent / times.length > budget) break;
    times.push(await once(loops));
  }
  const perLoop = times.map((t) => t / loops);
  const mean = perLoop.reduce((a, b) => a + b, 0) / perLoop.length;
  const variance = perLoop.reduce((a, b) => a + (b - mean) ** 2, 0) / perLoop.length;
  return { loops, runs: perLoop.length, meanMs: mean, stdMs: Math.sqrt(variance), bestMs: Math.min(...perLoop) };
}

export async function runTimeit(
  session: MagicSession, parent: string, code: string, lineOffset: number, opts: TimeitOptions,
): Promise<ExecuteOk | ExecuteError> {
  const interrupt = watchInterrupts(session);
  const r = await session.evaluateCell(code, { parent, lineOffset, edits: asFunction(code) });
  if (r.status !== "ok") return r;
  if (typeof r.value !== "function") {
    return usageError("%timeit could not compile the statement into a function");
  }
  const stats = await timeit(r.value as () => unknown, { ...opts, interrupt });
  sink = undefined;
  writeStream(session, parent, "stdout", describeTimeit(stats));
  return { status: "ok" };
}

/**
 * The code becomes the body of a function, type-checked and compiled once, then called in a loop
 * (a lone expression becomes the function's value, so its work cannot be optimised away). The
 * function around it is inserted text (source-edits.ts): errors point at the code as written.
 */
function asFunction(code: string): SourceEdit[] {
  const head = /\bawait\b/.test(code) ? "(async () => " : "(() => ";
  const sf = ts.createSourceFile("timeit.ts", code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const only = sf.statements.length === 1 ? sf.statements[0] : undefined;
  if (only && ts.isExpressionStatement(only)) {
    return [{ at: only.expression.getStart(sf), text: `${head}(` }, { at: only.expression.getEnd(), text: "\n))" }];
  }
  return [{ at: 0, text: `${head}{ ` }, { at: code.length, text: "\n})" }];
}
