/**
 * The executor leads a process group of its own (the kernel starts it detached), which the
 * processes its cells start join, as do the pool's workers and whatever they start (unless started
 * detached themselves). When the session ends, so do they, as a Jupyter kernel's children do when
 * jupyter_client kills the kernel's process group. (While the kernel runs, it also kills what is
 * left of the group once the executor has ended: see host.ts.)
 */

/** At the end of an orderly exit: SIGTERM to every other process of the group; this one ignores it and exits as it was. */
export function stopProcessGroup(): void {
  process.on("SIGTERM", () => undefined);
  try {
    process.kill(-process.pid, "SIGTERM");
  } catch {
    // not a group leader (started by hand, not by the kernel): nothing of the group to end
  }
}

/** When the process cannot end by itself (stuck in a loop): SIGKILL to the whole group, this process included. */
export function killProcessGroup(): void {
  try {
    process.kill(-process.pid, "SIGKILL");
  } catch {
    process.kill(process.pid, "SIGKILL");
  }
}
