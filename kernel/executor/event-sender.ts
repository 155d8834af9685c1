/**
 * Sends executor messages to the kernel process, merging consecutive writes to the same stream of
 * the same request (a loop of console.log calls becomes a few `stream` messages, not thousands).
 * Merged text goes out at the end of the current macrotask, when it grows past a size limit, or
 * before any other message, so every message keeps its order.
 *
 * Every message carries its number in sending order (`seq`), and the sender remembers those the
 * IPC channel has not written out yet: when the process ends before it could (process.exit(), a
 * fatal signal it sends itself), they reach the kernel on its pipe instead (exit-notice.ts), and the
 * kernel takes those whose number is past the last one it received.
 */
import type { ExecutorToHost, SequencedMessage, StreamEvent } from "./protocol.js";
import { unboundSetImmediate } from "./output-context.js";

const FLUSH_BYTES = 64 * 1024;

export interface EventSender {
  send(event: ExecutorToHost): void;
  /** Sends the text held back at once; returns every message not known to be written to the channel, oldest first. */
  flushUndelivered(): SequencedMessage[];
}

/** `post` hands a message to the channel and calls `written` once the channel has written it out (or dropped it). */
export function createEventSender(post: (message: SequencedMessage, written: () => void) => void): EventSender {
  let pending: StreamEvent | undefined;
  let scheduled = false;
  let seq = 0;
  const unwritten = new Map<number, SequencedMessage>();
  const postNow = (event: ExecutorToHost) => {
    const message = { ...event, seq: ++seq } as SequencedMessage;
    unwritten.set(message.seq, message);
    post(message, () => unwritten.delete(message.seq));
  };
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const e = pending;
    pending = undefined;
    postNow(e);
  };
  return {
    send(event) {
      if (event.type === "stream") {
        if (pending && (pending.parent !== event.parent || pending.name !== event.name)) flush();
        if (pending) pending.text += event.text;
        else pending = { ...event };
        if (pending.text.length >= FLUSH_BYTES) flush();
        else if (!scheduled) {
          scheduled = true;
          unboundSetImmediate(flush);
        }
        return;
      }
      flush();
      postNow(event);
    },
    flushUndelivered() {
      flush();
      return [...unwritten.values()];
    },
  };
}
