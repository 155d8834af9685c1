/** history_request: tail, range and search over the history file (inputs only). */
import type { HistoryEntry } from "../history.js";
import { errorContent } from "./bad-request.js";
import type { Handler } from "./context.js";

export const history: Handler = async (ctx) => {
  const c = ctx.request.content;
  const n = Number.isInteger(c.n) ? (c.n as number) : 10;
  let entries: HistoryEntry[];
  switch (c.hist_access_type) {
    case "range":
      entries = ctx.history.range(Number.isInteger(c.session) ? c.session : 0, Number.isInteger(c.start) ? c.start : 1, Number.isInteger(c.stop) ? c.stop : null);
      break;
    case "search":
      entries = ctx.history.search(typeof c.pattern === "string" ? c.pattern : "*", Number.isInteger(c.n) ? c.n : null, c.unique === true);
      break;
    case "tail":
      entries = ctx.history.tail(n, c.unique === true);
      break;
    default:
      await ctx.reply(
        "history_reply",
        { ...errorContent("BadRequest", `hist_access_type must be "tail", "range" or "search", got ${JSON.stringify(c.hist_access_type)}`), history: [] },
      );
      return;
  }
  const withOutput = c.output === true;
  await ctx.reply("history_reply", {
    status: "ok",
    history: entries.map((e) => (withOutput ? [e.session, e.line, [e.source, null]] : [e.session, e.line, e.source])),
  });
};
