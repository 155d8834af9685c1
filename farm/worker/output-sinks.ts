/**
 * Where a worker's captured output goes: frames (see farm/output-frames.ts) in a shared ring
 * (farm/output-ring.ts), written before the write call returns and numbered, so a message to the
 * parent can say how much output came before it.
 * - ThreadSink: the parent reads the ring itself.
 * - ProcessSink: the helper thread passes the ring on to the output pipe, fd 4 (see
 *   output-forwarder.ts). When a job is about to let native code write to fd 1 and fd 2 (it
 *   starts a child process, which shares them), the sink also writes a marker of the job there,
 *   and another when the job ends, so that what the child prints is tagged with the job. Jobs
 *   that start no child process pay nothing for this (a marker is a write the parent must read).
 */
import { writeAll } from "./fd-writes.js";
import { frameHeader, type FrameType } from "../output-frames.js";
import type { StreamName } from "../output-lines.js";
import { RING_MAX_FRAME, RingWriter } from "../output-ring.js";
import type { OutputSink, OutputTag } from "./output-capture.js";

const TYPE: Record<StreamName, { captured: FrameType; raw: FrameType }> = {
  stdout: { captured: "o", raw: "O" },
  stderr: { captured: "e", raw: "E" },
};
/** Text per frame, so that a frame always fits in the ring (UTF-8 takes at most 3 bytes per UTF-16 unit). */
const MAX_FRAME_TEXT = Math.floor((RING_MAX_FRAME - 100) / 3);

abstract class RingSink implements OutputSink {
  /** Frames written so far: the seq of the next one. */
  written = 0;
  protected readonly ring: RingWriter;

  constructor(ring: SharedArrayBuffer, wake: () => void) {
    this.ring = new RingWriter(ring, wake);
  }

  text(stream: StreamName, text: string, tag: OutputTag, raw: boolean): void {
    const type = raw ? TYPE[stream].raw : TYPE[stream].captured;
    for (let from = 0; from < text.length;) {
      let to = Math.min(text.length, from + MAX_FRAME_TEXT);
      if (to < text.length && (text.charCodeAt(to - 1) & 0xfc00) === 0xd800) to--; // keep a surrogate pair together
      const part = from === 0 && to === text.length ? text : text.slice(from, to);
      this.ring.write(frameHeader(type, this.written, tag.job, tag.index, part.length) + part);
      // counted once written: a message must never wait for a frame that is not there
      this.written++;
      from = to;
    }
  }

  /** True when the reader has taken every frame written. */
  ringEmpty(): boolean {
    return this.ring.empty();
  }

  /** The job running from now on (frames carry their job themselves; see ProcessSink). */
  abstract mark(job: number | null): void;
}

export class ThreadSink extends RingSink {
  mark(): void {}
}

export class ProcessSink extends RingSink {
  private job: number | null = null;
  /** The job fd 1 and fd 2 were last marked with (null: none, or it ended). */
  private fdJob: number | null = null;

  mark(job: number | null): void {
    this.job = job;
    if (this.fdJob !== null) this.markFds(null);
  }

  /** Native code may write to fd 1 and fd 2 during the running job (a child process starts): they get its marker. */
  nativeOutputPossible(): void {
    if (this.job !== null && this.fdJob !== this.job) this.markFds(this.job);
  }

  private markFds(job: number | null): void {
    this.fdJob = job;
    for (const fd of [1, 2]) {
      // counted only if written (a closed fd keeps the tag it had)
      if (writeAll(fd, frameHeader("m", this.written, job, null, 0))) this.written++;
    }
  }
}
