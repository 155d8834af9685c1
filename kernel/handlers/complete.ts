/** complete_request: completions from the executor; cursor positions converted code points <-> UTF-16. */
import { codePointToUtf16, utf16ToCodePoint } from "../wire/cursor.js";
import { errorContent, requireString } from "./bad-request.js";
import type { Handler } from "./context.js";

export const complete: Handler = async (ctx) => {
  const bad = requireString(ctx.request, "code");
  if (bad) {
    await ctx.reply("complete_reply", errorContent("BadRequest", bad));
    return;
  }
  const c = ctx.request.content;
  const code: string = c.code; // a string: checked above
  const cursor = Number.isInteger(c.cursor_pos) ? codePointToUtf16(code, c.cursor_pos) : code.length;
  const r = await ctx.host.request<"complete">({ type: "complete", id: ctx.request.header.msg_id, code, cursor });
  const start = r.matches.length ? r.cursor_start : cursor;
  const end = r.matches.length ? r.cursor_end : cursor;
  await ctx.reply("complete_reply", {
    status: "ok",
    matches: r.matches,
    cursor_start: utf16ToCodePoint(code, start),
    cursor_end: utf16ToCodePoint(code, end),
    metadata: r.metadata ?? {},
  });
};
