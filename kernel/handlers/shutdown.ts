/**
 * shutdown_request (control or shell): reply, broadcast the reply on iopub, then end the process.
 * With `restart: true` the process also ends; the client (e.g. jupyter_client) starts a new one.
 */
import type { Handler } from "./context.js";

export const shutdown: Handler = async (ctx) => {
  const restart = ctx.request.content.restart === true;
  await ctx.reply("shutdown_reply", { status: "ok", restart });
  await ctx.publish("shutdown_reply", { status: "ok", restart });
  await ctx.shutdown(restart);
};
