/** `%pool start|status|stop|restart|push|pull` on the notebook pool. */
import type { ExecuteError, ExecuteOk } from "../kernel/executor/protocol.js";
import { usageError, type LineMagic } from "./parse.js";
import { writeStream, type MagicSession } from "./session-api.js";
import { createNotebookPool } from "./notebook-pool.js";
import { statusBundle, workersBundle } from "./render-status.js";
import { captureDependencies } from "./capture.js";
import { poolErrorToExecuteError } from "./task-errors.js";
import { resultOf } from "./cell-results.js";
import { withCellPositions } from "./cell-positions.js";
import type { Dep } from "../farm/task-code.js";
import { CellInterrupted, watchInterrupts, type InterruptWatch } from "./cell-interrupt.js";

/** "2 process workers", "1 fresh thread worker". */
function countWorkers(n: number, threads: boolean, adjective?: string): string {
  return `${n} ${adjective ? `${adjective} ` : ""}${threads ? "thread" : "process"} worker${n === 1 ? "" : "s"}`;
}

function show(session: MagicSession, parent: string, data: Record<string, string>): void {
  session.emit({ type: "display", parent, update: false, data, metadata: {}, transient: {} });
}

export async function runPoolLineMagic(session: MagicSession, magic: LineMagic, parent: string): Promise<ExecuteOk | ExecuteError> {
  const nb = createNotebookPool(session);
  // After each await: an interrupted cell has ended, and nothing more may be written to it.
  const interrupt = watchInterrupts(session);
  try {
    switch (magic.kind) {
      case "pool-start": {
        const wasStarted = nb.started;
        const before = nb.size;
        const wasThreads = nb.threadWorkers;
        const workers = await nb.start(magic.workers, { threads: magic.threads });
        interrupt.check();
        const n = workers.length;
        const title = !wasStarted
          ? `Started ${countWorkers(n, magic.threads)}:`
          : wasThreads !== magic.threads
            ? `Replaced the pool's ${countWorkers(before, wasThreads)} with ${countWorkers(n, magic.threads)}:`
            : before !== n
              ? `Resized the pool from ${before} to ${countWorkers(n, magic.threads)}:`
              : `The pool is running with ${countWorkers(n, magic.threads)}:`;
        show(session, parent, workersBundle(title, workers));
        return { status: "ok" };
      }
      case "pool-status": {
        const st = await nb.refreshStatus();
        interrupt.check();
        if (!st) {
          writeStream(session, parent, "stdout", "The pool is not started: `%pool start [N]` starts it (it also starts on first use).");
          return { status: "ok" };
        }
        show(session, parent, statusBundle(st));
        return { status: "ok" };
      }
      case "pool-stop": {
        const n = nb.started ? nb.size : 0;
        await nb.stop();
        interrupt.check();
        writeStream(session, parent, "stdout", n ? `Stopped the pool's ${n} workers; it starts again on next use.` : "The pool was not running.");
        return { status: "ok" };
      }
      case "pool-restart": {
        const workers = await nb.restart();
        interrupt.check();
        show(session, parent, workersBundle(`Restarted with ${countWorkers(workers.length, nb.threadWorkers, "fresh")}:`, workers));
        return { status: "ok" };
      }
      case "pool-push":
        return await push(session, nb, magic.names, parent, interrupt);
      case "pool-pull": {
        const values = await nb.pull(magic.name);
        interrupt.check();
        return resultOf(session, values);
      }
    }
  } catch (e) {
    if (e instanceof CellInterrupted) throw e;
    return poolErrorToExecuteError(e);
  }
  return usageError(`unexpected magic ${magic.kind}`);
}

async function push(session: MagicSession, nb: ReturnType<typeof createNotebookPool>, names: string[], parent: string, interrupt: InterruptWatch): Promise<ExecuteOk | ExecuteError> {
  const scope = globalThis as Record<string, unknown>;
  for (const n of names) {
    if (!session.bindings.get(n) && !(n in scope)) {
      return usageError(`\`%pool push ${n}\`: \`${n}\` is not defined in the kernel; define it in a cell first.`);
    }
    if (session.bindings.get(n)?.ambient) {
      return usageError(`\`%pool push ${n}\`: \`${n}\` is declared with \`declare\`, so the kernel has no value of it to push; ` +
        "define it in a cell (or on the workers, with a `%%pool run` cell).");
    }
  }
  // Everything the names need, as capture would send it for a function that uses them.
  const deps = captureDependencies(`() => [${names.join(", ")}]`, { bindings: session.bindings, scope, sharedMemory: nb.threadWorkers });
  const data: Record<string, unknown> = {};
  const code: Dep[] = [];
  for (const d of deps) {
    if ("value" in d) data[d.name] = d.value;
    else code.push(d);
  }
  // Data is pushed (workers started later get it too); code is installed on the running workers.
  if (Object.keys(data).length) await nb.push(data);
  interrupt.check();
  if (code.length) await nb.run(withCellPositions({ fn: "() => undefined", deps: code, filename: "tspool-push" }, session, { fn: null }));
  interrupt.check();
  const shipped = deps.filter((d): d is Exclude<Dep, { script: string }> => "name" in d).map((d) => d.name);
  // (what tspool itself ships along, e.g. its TypeScript loader, is not the notebook's business)
  const extra = shipped.filter((n) => !names.includes(n) && !n.startsWith("__tspool_"));
  writeStream(session, parent, "stdout",
    `Pushed ${names.join(", ")} to ${nb.size} worker${nb.size === 1 ? "" : "s"}` + (extra.length ? ` (with what ${names.length === 1 ? "it uses" : "they use"}: ${extra.join(", ")})` : "") + ".");
  return { status: "ok" };
}
