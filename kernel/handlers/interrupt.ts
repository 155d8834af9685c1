/** interrupt_request (control): interrupt the running cell in the executor. */
import type { Handler } from "./context.js";

export const interrupt: Handler = async (ctx) => {
  ctx.host.interrupt();
  await ctx.reply("interrupt_reply", { status: "ok" });
};
