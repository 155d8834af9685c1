/** Whether a process is still alive: it exists and (where /proc tells) is not a zombie that has ended. */
import { existsSync, readFileSync } from "node:fs";

export function alive(pid: number): boolean {
  if (existsSync("/proc")) {
    try {
      return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
