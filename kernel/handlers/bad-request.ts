/**
 * Error replies for requests the kernel cannot act on (malformed content, unknown request types,
 * internal failures), so that a client always gets an answer that says what was wrong.
 */
import type { JupyterMessage } from "../wire/message.js";

/** `foo_request` -> `foo_reply`; null for messages that are not requests. */
export function replyTypeOf(msgType: string): string | null {
  return msgType.endsWith("_request") ? msgType.slice(0, -"_request".length) + "_reply" : null;
}

export function errorContent(ename: string, evalue: string): { status: "error"; ename: string; evalue: string; traceback: string[] } {
  return { status: "error", ename, evalue, traceback: [`${ename}: ${evalue}`] };
}

/** Checks that `content[field]` is a string; returns the complaint if not. */
export function requireString(request: JupyterMessage, field: string): string | null {
  const v = request.content[field];
  if (typeof v === "string") return null;
  return `${request.header.msg_type} needs "${field}" to be a string, got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
}
