/**
 * Comms: the kernel registers no comm targets, so comm_info lists none and a comm_open to any
 * target is answered by closing that comm (as the messaging spec asks). Other comm messages for
 * comms that do not exist are ignored.
 */
import type { Handler } from "./context.js";

export const commInfo: Handler = async (ctx) => {
  await ctx.reply("comm_info_reply", { status: "ok", comms: {} });
};

export const commOpen: Handler = async (ctx) => {
  const c = ctx.request.content;
  process.stderr.write(`[tspool] comm_open to unknown target ${JSON.stringify(c.target_name)}: closing it\n`);
  await ctx.publish("comm_close", { comm_id: c.comm_id, data: {} });
};

export const commIgnored: Handler = async () => undefined;
