/**
 * Stops the JavaScript the main thread is running, from a helper thread of the same process: an
 * inspector session on the main thread asks V8 to terminate execution. Only the current callback
 * ends; the event loop and every global carry on. Used by the farm's process workers and by the
 * kernel's executor, whose main threads may be stuck in synchronous code.
 */
import { Session } from "node:inspector";

/** Resolves once V8 took the request (`onTerminated` runs first), or at once when no session can connect. */
export function terminateMainThread(onTerminated?: () => void): Promise<void> {
  return new Promise((resolve) => {
    const session = new Session();
    try {
      session.connectToMainThread();
    } catch {
      resolve();
      return;
    }
    session.post("Runtime.terminateExecution", () => {
      onTerminated?.();
      session.disconnect();
      resolve();
    });
  });
}
