/**
 * How the executor tells the kernel about an abrupt end, on the kernel's pipe (fd 3, see
 * kernel-pipe.ts), one JSON line per notice, written synchronously:
 * - from the process's "exit" event when JavaScript called process.exit() (a cell, a timer of a
 *   cell, a library it called): `{"exit":3,"parent":"<msg_id>","undelivered":[...]}`, `parent`
 *   being the execute request whose code (or whose timers and promise callbacks) called
 *   process.exit, so that the cell's error can say so instead of a bare "exit code 3";
 * - just before the process sends itself a signal that may end it, or aborts:
 *   `{"undelivered":[...]}`.
 * `undelivered` holds the messages the IPC channel had not written out yet (see event-sender.ts),
 * such as what the cell printed just before: the kernel passes on those it did not receive.
 * The kernel reads the pipe until it closes, which it does once the process has ended.
 */
import { writeSync } from "node:fs";
import { KERNEL_PIPE_FD, isKernelPipe } from "./kernel-pipe.js";
import type { SequencedMessage } from "./protocol.js";

export interface ExitNotice {
  /** The process's exit code. */
  code: number;
  /** The execute request (msg_id) whose code called process.exit, when known. */
  parent?: string;
}

interface PipeNotice {
  exit?: number;
  parent?: string;
  undelivered?: SequencedMessage[];
}

/** How long a notice may wait for room in the pipe (the kernel reads it all the time). */
const WRITE_LIMIT_MS = 2000;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes a notice on the kernel's pipe; does nothing without one (never throws; waits at most WRITE_LIMIT_MS). */
export function writeExitNotice(notice: { exit?: ExitNotice; undelivered?: SequencedMessage[] }): void {
  if (!isKernelPipe(KERNEL_PIPE_FD)) return;
  const line: PipeNotice = {
    ...(notice.exit ? { exit: notice.exit.code, parent: notice.exit.parent } : {}),
    ...(notice.undelivered?.length ? { undelivered: notice.undelivered } : {}),
  };
  if (Object.keys(line).length === 0) return;
  const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
  const deadline = Date.now() + WRITE_LIMIT_MS;
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(KERNEL_PIPE_FD, bytes, written);
    } catch (err) {
      // The pipe is full for now (the helper thread made it non-blocking): wait for the kernel to read.
      // Otherwise the kernel is gone: the exit code alone has to do.
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN" || Date.now() > deadline) return;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Collects the notices the kernel's end of the pipe receives, in whatever chunks they come. */
export class ExitNoticeReader {
  #partial = "";
  #last: ExitNotice | undefined;
  readonly #undelivered = new Map<number, SequencedMessage>();

  /** The last exit notice read so far. */
  get notice(): ExitNotice | undefined {
    return this.#last;
  }

  /** The messages the notices carried whose number is past `lastReceived`, in order. */
  undeliveredAfter(lastReceived: number): SequencedMessage[] {
    return [...this.#undelivered.values()].filter((m) => m.seq > lastReceived).sort((a, b) => a.seq - b.seq);
  }

  /** Forgets the carried messages the kernel has received after all (numbered up to `lastReceived`). */
  dropReceived(lastReceived: number): void {
    if (this.#undelivered.size === 0) return;
    for (const seq of this.#undelivered.keys()) if (seq <= lastReceived) this.#undelivered.delete(seq);
  }

  feed(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop()!;
    for (const line of lines) {
      try {
        const parsed = JSON.parse(line) as { exit?: unknown; parent?: unknown; undelivered?: unknown };
        if (typeof parsed.exit === "number") this.#last = { code: parsed.exit, ...(typeof parsed.parent === "string" ? { parent: parsed.parent } : {}) };
        if (Array.isArray(parsed.undelivered)) {
          for (const m of parsed.undelivered as SequencedMessage[]) if (typeof m?.seq === "number") this.#undelivered.set(m.seq, m);
        }
      } catch {
        // not a notice: ignored
      }
    }
  }
}
