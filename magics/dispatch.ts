/**
 * Entry point of magic cells (contract C1): the executor calls `runMagicCell` when a cell's first
 * non-blank line starts with `%`. Parses the cell, runs each magic, and answers like a cell:
 * `{ status: "ok", result? }` or an ExecuteError (a `UsageError` for a malformed magic, with the
 * closest valid form). A failing magic never takes the kernel or the pool down with it.
 */
import type { ExecuteError, ExecuteOk } from "../kernel/executor/protocol.js";
import { parseMagicCell, MagicUsageError, usageError, type CellMagic, type LineMagic } from "./parse.js";
import { lsmagicText, poolHelpText } from "./help.js";
import { runTime, runTimeit, timed } from "./timing.js";
import { whoText } from "./who.js";
import { writeStream, type MagicRequest, type MagicSession } from "./session-api.js";
import { runPoolLineMagic } from "./pool-line-magics.js";
import { runPoolMap } from "./pool-map-magic.js";
import { runPoolRun } from "./pool-run-magic.js";
import { CellInterrupted } from "./cell-interrupt.js";
import { interruptedError } from "../kernel/executor/runtime-error.js";

export async function runMagicCell(session: MagicSession, code: string, request: MagicRequest): Promise<ExecuteOk | ExecuteError> {
  const reply = await runParsed(session, code, request);
  if (request.silent && reply.status === "ok" && reply.result) return { status: "ok" };
  return reply;
}

async function runParsed(session: MagicSession, code: string, request: MagicRequest): Promise<ExecuteOk | ExecuteError> {
  let parsed;
  try {
    parsed = parseMagicCell(code);
  } catch (err) {
    if (err instanceof MagicUsageError) return usageError(err.message);
    throw err;
  }
  try {
    if (parsed.type === "cell") return await runCellMagic(session, parsed.magic, request);
    let last: ExecuteOk | ExecuteError = { status: "ok" };
    for (const magic of parsed.magics) {
      last = await runLineMagic(session, magic, request);
      if (last.status !== "ok") return last;
    }
    return last;
  } catch (err) {
    if (err instanceof MagicUsageError) return usageError(err.message);
    // The executor answered the interrupt already; this answer is dropped.
    if (err instanceof CellInterrupted) return interruptedError();
    const e = err as Error;
    return {
      status: "error",
      ename: e?.name || "Error",
      evalue: e?.message ?? String(err),
      traceback: [String(e?.stack ?? err)],
    };
  }
}

async function runLineMagic(session: MagicSession, magic: LineMagic, request: MagicRequest): Promise<ExecuteOk | ExecuteError> {
  const parent = request.id;
  switch (magic.kind) {
    case "lsmagic":
      writeStream(session, parent, "stdout", lsmagicText());
      return { status: "ok" };
    case "pool-help":
      writeStream(session, parent, "stdout", poolHelpText());
      return { status: "ok" };
    case "who":
      writeStream(session, parent, "stdout", whoText(session));
      return { status: "ok" };
    case "time":
      return runTime(session, parent, magic.code, magic.lineOffset);
    case "timeit":
      return runTimeit(session, parent, magic.code, magic.lineOffset, { number: magic.number, repeat: magic.repeat });
    default:
      return runPoolLineMagic(session, magic, parent);
  }
}

async function runCellMagic(session: MagicSession, magic: CellMagic, request: MagicRequest): Promise<ExecuteOk | ExecuteError> {
  const parent = request.id;
  switch (magic.kind) {
    case "time-cell":
      // A body that is itself a magic (`%%time` above `%%pool map ...`) runs as that magic, timed;
      // blank lines in front keep its line numbers those of this cell.
      if (/^\s*%/.test(magic.body)) return timed(session, parent, () => runParsed(session, "\n".repeat(magic.lineOffset) + magic.body, request));
      return runTime(session, parent, magic.body, magic.lineOffset);
    case "timeit-cell":
      if (/^\s*%/.test(magic.body)) {
        return usageError("`%%timeit` runs its body many times and cannot repeat a magic; time it once with `%%time` above the magic, or repeat a call such as `%timeit await pool.map(f, items)`.");
      }
      return runTimeit(session, parent, magic.body, magic.lineOffset, { number: magic.number, repeat: magic.repeat });
    case "pool-map":
      return runPoolMap(session, magic, parent);
    case "pool-run":
      return runPoolRun(session, magic, parent);
  }
}
