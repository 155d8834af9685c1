/**
 * Sends executor events to the kernel process, merging consecutive writes to the same stream of
 * the same request (a loop of console.log calls becomes a few `stream` messages, not thousands).
 * Merged text goes out at the end of the current macrotask, when it grows past a size limit, or
 * before any other event, so every event keeps its order.
 */
import type { ExecutorToHost, StreamEvent } from "./protocol.js";

const FLUSH_BYTES = 64 * 1024;

export function createEventSender(post: (e: ExecutorToHost) => void): (e: ExecutorToHost) => void {
  let pending: StreamEvent | undefined;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const e = pending;
    pending = undefined;
    post(e);
  };
  return (event) => {
    if (event.type === "stream") {
      if (pending && (pending.parent !== event.parent || pending.name !== event.name)) flush();
      if (pending) pending.text += event.text;
      else pending = { ...event };
      if (pending.text.length >= FLUSH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return;
    }
    flush();
    post(event);
  };
}
