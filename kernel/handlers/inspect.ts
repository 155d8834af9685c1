/** inspect_request: type signature and docs of the name at the cursor, from the executor. */
import { codePointToUtf16 } from "../wire/cursor.js";
import { errorContent, requireString } from "./bad-request.js";
import type { Handler } from "./context.js";

export const inspect: Handler = async (ctx) => {
  const bad = requireString(ctx.request, "code");
  if (bad) {
    await ctx.reply("inspect_reply", errorContent("BadRequest", bad));
    return;
  }
  const c = ctx.request.content;
  const code: string = c.code; // a string: checked above
  const cursor = Number.isInteger(c.cursor_pos) ? codePointToUtf16(code, c.cursor_pos) : code.length;
  const detailLevel = c.detail_level === 1 ? 1 : 0;
  const r = await ctx.host.request<"inspect">({ type: "inspect", id: ctx.request.header.msg_id, code, cursor, detailLevel });
  await ctx.reply("inspect_reply", { status: "ok", found: r.found, data: r.found ? r.data : {}, metadata: r.metadata ?? {} });
};
