/**
 * A process worker's IPC channel reads the parent's messages in a callback of Node's own; a
 * message that fails to deserialize there (nested too deeply for this thread's stack) throws out
 * of it as an uncaught exception, and the message is lost without a word. The guard catches that
 * failure and reports it, after the messages read before it have been delivered (Node delivers
 * them on the next tick), so the parent learns which of its messages was lost and can fail its
 * job. The messages that arrived with the lost one stay in the channel's buffer until more bytes
 * come (the parent sends a "nudge" when told).
 *
 * It reaches Node's channel handle through the symbol Node keeps it under; if a Node version
 * keeps it elsewhere, nothing is guarded (and such a message is lost as before).
 */
interface ChannelHandle { onread: (...args: unknown[]) => unknown }

function channelHandle(): ChannelHandle | null {
  const key = Object.getOwnPropertySymbols(process).find((k) => k.description === "kChannelHandle");
  const handle = key === undefined ? undefined : (process as unknown as Record<symbol, unknown>)[key];
  return typeof handle === "object" && handle !== null && typeof (handle as ChannelHandle).onread === "function"
    ? (handle as ChannelHandle)
    : null;
}

/** Calls `report` with the error of each message from the parent that could not be read. */
export function guardChannelReads(report: (error: unknown) => void): void {
  const handle = channelHandle();
  if (!handle) return;
  const read = handle.onread;
  handle.onread = function guardedRead(this: unknown, ...args: unknown[]) {
    try {
      return read.apply(this, args);
    } catch (e) {
      process.nextTick(report, e);
      return undefined;
    }
  };
}
