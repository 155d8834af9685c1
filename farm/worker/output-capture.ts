/**
 * Captures what a worker's code writes through console.* and process.stdout/stderr.write and
 * hands each write at once, tagged with the job and map item running at the time, to a sink that
 * puts it where the parent can read it without this thread's help (a pipe, shared memory): a
 * line printed just before the worker dies, or before a long synchronous computation, reaches
 * the parent all the same. Nothing is held here except the bytes of a UTF-8 character cut in two
 * by a Buffer write. The parent joins the pieces into whole lines (see farm/output-receiver.ts).
 */
import { StringDecoder } from "node:string_decoder";
import type { StreamName } from "../output-lines.js";

export interface OutputTag { job: number | null; index: number | null }

/** Where captured output goes (see output-sinks.ts). */
export interface OutputSink {
  /** `raw`: written to fd 1 / fd 2 directly (see raw-writes.ts), not through the streams. */
  text(stream: StreamName, text: string, tag: OutputTag, raw: boolean): void;
  /** The worker starts running a job, or stops (null). */
  mark(job: number | null): void;
}

type Decoders = Record<StreamName, StringDecoder>;
const decoders = (): Decoders => ({ stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") });

export class OutputCapture {
  private readonly decoders = { captured: decoders(), raw: decoders() };

  constructor(private readonly sink: OutputSink, private readonly tag: () => OutputTag) {}

  install(): void {
    for (const name of ["stdout", "stderr"] as const) {
      const stream = process[name] as NodeJS.WriteStream;
      stream.write = ((chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
        if (typeof encoding === "function") { cb = encoding; encoding = undefined; }
        this.write(name, chunk, encoding as BufferEncoding | undefined);
        if (typeof cb === "function") process.nextTick(cb as () => void);
        return true;
      }) as typeof stream.write;
    }
  }

  write(stream: StreamName, chunk: unknown, encoding?: BufferEncoding): void {
    let text: string;
    if (typeof chunk === "string") text = encoding && encoding !== "utf8" && encoding !== "utf-8" ? Buffer.from(chunk, encoding).toString("utf8") : chunk;
    else if (chunk instanceof Uint8Array) text = this.decoders.captured[stream].write(chunk);
    else text = String(chunk);
    if (text) this.sink.text(stream, text, this.tag(), false);
  }

  /** Bytes the task wrote to fd 1 / fd 2 directly. */
  writeRaw(stream: StreamName, bytes: Uint8Array): void {
    const text = this.decoders.raw[stream].write(bytes);
    if (text) this.sink.text(stream, text, this.tag(), true);
  }

  /** The running job changed (a job started, or ended: null). */
  jobChanged(job: number | null): void {
    for (const raw of [false, true]) {
      for (const name of ["stdout", "stderr"] as const) {
        const rest = this.decoders[raw ? "raw" : "captured"][name].end();
        if (rest) this.sink.text(name, rest, this.tag(), raw);
      }
    }
    this.sink.mark(job);
  }
}
