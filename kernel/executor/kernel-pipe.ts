/**
 * The executor's fd 3: a socket pair end the kernel (host.ts) sets up when it forks the executor.
 * The kernel writes interrupt bytes on it (read by interrupter.ts); the executor writes its exit
 * notice on it (exit-notice.ts); its end tells the executor that the kernel is gone.
 */
import { fstatSync } from "node:fs";

export const KERNEL_PIPE_FD = 3;

/** Whether `fd` is a pipe or socket: the kernel's, never an unrelated file the process inherited as fd 3. */
export function isKernelPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}
