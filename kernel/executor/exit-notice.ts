/**
 * How the executor tells the kernel that JavaScript ended it with process.exit() (a cell, a timer
 * of a cell, a library it called), so that the cell's error can say so instead of a bare "exit
 * code 3". From the process's "exit" event, the executor writes one JSON line synchronously on
 * the kernel's pipe (fd 3, see kernel-pipe.ts): `{"exit":3,"parent":"<msg_id>"}`, `parent` being
 * the execute request whose code (or whose timers and promise callbacks) called process.exit.
 * The kernel reads the pipe until it closes, which it does once the process has ended.
 */
import { writeSync } from "node:fs";
import { KERNEL_PIPE_FD, isKernelPipe } from "./kernel-pipe.js";

export interface ExitNotice {
  /** The process's exit code. */
  code: number;
  /** The execute request (msg_id) whose code called process.exit, when known. */
  parent?: string;
}

/** Writes the notice on the kernel's pipe; does nothing without one (never blocks, never throws). */
export function writeExitNotice(notice: ExitNotice, fd = KERNEL_PIPE_FD): void {
  if (!isKernelPipe(fd)) return;
  try {
    writeSync(fd, `${JSON.stringify({ exit: notice.code, parent: notice.parent })}\n`);
  } catch {
    // the kernel is gone, or the pipe is full (nobody reads it): the exit code alone has to do
  }
}

/** Collects the notices the kernel's end of the pipe receives, in whatever chunks they come. */
export class ExitNoticeReader {
  #partial = "";
  #last: ExitNotice | undefined;

  /** The last complete notice read so far. */
  get notice(): ExitNotice | undefined {
    return this.#last;
  }

  feed(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) {
      try {
        const parsed = JSON.parse(line) as { exit?: unknown; parent?: unknown };
        if (typeof parsed.exit !== "number") continue;
        this.#last = { code: parsed.exit, ...(typeof parsed.parent === "string" ? { parent: parsed.parent } : {}) };
      } catch {
        // not a notice: ignored
      }
    }
  }
}
