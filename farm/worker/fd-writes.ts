/**
 * tspool's own writes to a process worker's file descriptors (the output pipe, the job markers
 * on fd 1 and 2). They use fs.writeSync as it was when this module loaded, before raw-writes.ts
 * routed the task's writes to fd 1 and 2 into the captured output.
 */
import { writeSync as fsWriteSync } from "node:fs";

/** fs.writeSync before anybody replaced it (an import binding would follow the replacement). */
export const originalWriteSync = fsWriteSync;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data`; a full non-blocking pipe is waited for. Returns false if the fd is
 * closed (the parent is gone, or the task closed it): the bytes are dropped.
 */
export function writeAll(fd: number, data: Uint8Array | string): boolean {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  let done = 0;
  while (done < bytes.length) {
    try {
      done += originalWriteSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return false;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
  return true;
}

/**
 * Makes fd 1 and fd 2 blocking again (Node made them non-blocking when it opened
 * process.stdout/stderr): a write to a full pipe then waits for the parent to read instead of failing.
 */
export function makeStdioBlocking(): void {
  for (const name of ["stdout", "stderr"] as const) {
    const handle = (process[name] as unknown as { _handle?: { setBlocking?(on: boolean): number } })._handle;
    handle?.setBlocking?.(true);
  }
}
