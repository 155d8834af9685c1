/**
 * Captures what a worker's code writes through console.* and process.stdout/stderr.write and
 * sends it to the parent as whole lines, tagged with the job and item running at the time.
 * Lines go out at once (so a line printed just before a long synchronous computation is seen
 * before it ends), except in a flood: past 20 writes within 50 ms, consecutive lines with the same
 * tag are coalesced into one message, sent at the next write after the window, when the event
 * loop turns, at 64 KB, or when the job ends.
 */
import { StringDecoder } from "node:string_decoder";

type StreamName = "stdout" | "stderr";
export interface OutputTag { job: number | null; index: number | null }
export type OutputSink = (stream: StreamName, text: string, tag: OutputTag) => void;

const FLOOD_WINDOW_MS = 50;
const FLOOD_WRITES = 20;

export class OutputCapture {
  private partial: Record<StreamName, string> = { stdout: "", stderr: "" };
  private pending: { stream: StreamName; text: string; tag: OutputTag } | null = null;
  private windowStart = -Infinity;
  private windowCount = 0;
  private flushScheduled = false;
  private decoders: Record<StreamName, StringDecoder> = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };

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
    else if (chunk instanceof Uint8Array) text = this.decoders[stream].write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    else text = String(chunk);
    if (!text) return;
    const buf = this.partial[stream] + text;
    const nl = buf.lastIndexOf("\n");
    if (nl < 0) { this.partial[stream] = buf; return; }
    this.partial[stream] = buf.slice(nl + 1);
    this.queue(stream, buf.slice(0, nl + 1));
  }

  private queue(stream: StreamName, text: string): void {
    const tag = this.tag();
    const p = this.pending;
    if (p && p.stream === stream && p.tag.job === tag.job && p.tag.index === tag.index) p.text += text;
    else {
      if (p) this.emit();
      this.pending = { stream, text, tag };
    }
    const now = performance.now();
    if (now - this.windowStart >= FLOOD_WINDOW_MS) { this.windowStart = now; this.windowCount = 0; }
    this.windowCount++;
    if (this.windowCount <= FLOOD_WRITES || this.pending!.text.length > 65536) this.emit();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => { this.flushScheduled = false; this.emit(); });
    }
  }

  private emit(): void {
    const p = this.pending;
    this.pending = null;
    if (p) this.sink(p.stream, p.text, p.tag);
  }

  /** Sends everything buffered, ending an unterminated last line (called when a job ends). */
  flush(): void {
    for (const name of ["stdout", "stderr"] as const) {
      const rest = this.partial[name] + this.decoders[name].end();
      this.decoders[name] = new StringDecoder("utf8");
      this.partial[name] = "";
      if (rest) this.queue(name, rest + "\n");
    }
    this.emit();
  }
}
