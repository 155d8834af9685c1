/**
 * execute_request: counts, records history, announces the input, runs the cell in the executor,
 * publishes its result or error and replies. `silent` implies no history, no counting and no
 * output on iopub; `store_history: false` runs without counting or recording.
 */
import { errorContent, requireString } from "./bad-request.js";
import type { Handler } from "./context.js";

export const execute: Handler = async (ctx) => {
  const c = ctx.request.content;
  const bad = requireString(ctx.request, "code");
  if (bad) {
    await ctx.reply("execute_reply", { ...errorContent("BadRequest", bad), execution_count: ctx.state.executionCount });
    return;
  }
  const code: string = c.code;
  const silent = c.silent === true;
  const storeHistory = !silent && c.store_history !== false;
  const allowStdin = c.allow_stdin !== false;
  const stopOnError = c.stop_on_error !== false;

  if (storeHistory) ctx.state.executionCount++;
  const count = ctx.state.executionCount;
  if (storeHistory) ctx.history.append(count, code);
  if (!silent) await ctx.publish("execute_input", { code, execution_count: count });

  const id = ctx.request.header.msg_id;
  ctx.trackExecution(id, { silent, allowStdin });
  const userExpressions = c.user_expressions && typeof c.user_expressions === "object" && !Array.isArray(c.user_expressions) ? c.user_expressions : undefined;
  const result = await ctx.host.request<"execute">({
    type: "execute",
    id,
    code,
    silent,
    storeHistory,
    allowStdin,
    executionCount: count,
    ...(userExpressions ? { userExpressions } : {}),
  });

  if (result.status === "ok") {
    if (result.result && !silent) {
      await ctx.publish("execute_result", { execution_count: count, data: result.result.data, metadata: result.result.metadata ?? {} });
    }
    // As ipykernel does for `exit`/`quit`: the frontend (e.g. jupyter console) is asked to close.
    const payload = result.askExit ? [{ source: "ask_exit", keepkernel: result.askExit.keepKernel }] : [];
    await ctx.reply("execute_reply", { status: "ok", execution_count: count, user_expressions: result.userExpressions ?? {}, payload });
    return;
  }
  const error = { ename: result.ename, evalue: result.evalue, traceback: result.traceback };
  if (!silent) await ctx.publish("error", error);
  if (stopOnError) ctx.abortQueuedExecutes();
  await ctx.reply("execute_reply", { status: "error", execution_count: count, ...error }, { status: "error" });
};

