/** is_complete_request: whether the code is a finished cell, and the indent for the next line if not. */
import { errorContent, requireString } from "./bad-request.js";
import type { Handler } from "./context.js";

export const isComplete: Handler = async (ctx) => {
  const bad = requireString(ctx.request, "code");
  if (bad) {
    await ctx.reply("is_complete_reply", errorContent("BadRequest", bad));
    return;
  }
  const code: string = ctx.request.content.code; // a string: checked above
  const r = await ctx.host.request<"is_complete">({ type: "is_complete", id: ctx.request.header.msg_id, code });
  await ctx.reply("is_complete_reply", r.status === "incomplete" ? { status: r.status, indent: r.indent ?? "" } : { status: r.status });
};
