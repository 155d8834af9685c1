/**
 * The parent's side of one worker's output. It reads the worker's output sources (for a process
 * worker: its output pipe, fd 4, with the frames of captured output, and fd 1 and fd 2, with raw
 * bytes between markers of job changes; for a thread worker: its shared ring), puts frames back
 * in the order the worker wrote them (see output-frames.ts), tags raw text with the job the
 * worker ran when it wrote it, joins whole lines, and hands the worker's messages on only after
 * the output written before them: a task's lines always come before its result.
 *
 * Order: frames, and each source's raw text among them, come out exactly as written. Raw text of
 * one source against frames of another is ordered only as far as the frames around it tell: it
 * comes after every frame written before the frame preceding it in its own source.
 *
 * A frame that never comes (its bytes lost, a bug) must not hold the worker's results back for
 * ever: after a while without progress, the receiver goes on without it.
 */
import { FrameParser, type FrameType } from "./output-frames.js";
import { LineAssembler, type StreamName, type TaggedLines } from "./output-lines.js";
import type { WorkerToParent } from "./messages.js";

/** A process worker's IPC message: how many output frames it had written before it, then the message. */
export type BarrieredMessage = [barrier: number, message: WorkerToParent];

/** Feeds a source with the bytes read from it (a view that may be reused after the call). */
export interface RingOrPipeSource { feed(chunk: Uint8Array): void; end(): void }

/** Raw lines, with the job that wrote them (null: between jobs; undefined: not known). */
export type RawOutputSink = (stream: StreamName, text: string, job: number | null | undefined) => void;

interface Waiting { type: FrameType | "raw"; seq: number; job: number | null; index: number | null; text: string }

interface Source {
  parser: FrameParser;
  /** Parsed but not yet taken (from `head` on): a frame waits here for the frames before it from another source. */
  waiting: Waiting[];
  head: number;
  /** The streams a marker in this source ends lines of. */
  streams: StreamName[];
  /** Where its raw text goes (a pipe is one stream; the ring has no raw text). */
  rawStream: StreamName | null;
  /** The job of the last marker in this source (null: none, or it ended): its raw text's job, if known. */
  job: number | null;
}

/** How long output and messages wait for a missing frame before the receiver goes on without it. */
const DEFAULT_STALL_MS = 3000;
/**
 * How long an unterminated line written outside any job (a timer's write after its task
 * returned, a child process that outlived its job) waits for the rest of it: no job's end will
 * end it, so it is ended then (or at the next job's end, if that comes first).
 */
const JOBLESS_LINE_MS = 50;

export class OutputReceiver {
  private readonly sources: Source[] = [];
  private readonly lines: LineAssembler;
  /** seq of the next frame to take (every frame before it has been taken). */
  private next = 0;
  private held: { barrier: number; message: WorkerToParent }[] = [];
  private finished = false;
  private watchdog: NodeJS.Timeout | null = null;
  private joblessTimer: NodeJS.Timeout | null = null;

  private readonly deliver: (m: WorkerToParent) => void;
  private readonly raw: RawOutputSink;

  private readonly item: (job: number, index: number, exact: boolean) => void;
  private readonly stallMs: number;

  /**
   * `deliver` gets the worker's messages, captured output among them as "out" messages; `raw` gets
   * raw lines; `opts.item` the map item the worker said it runs (exact, or one it had reached).
   */
  constructor(
    deliver: (m: WorkerToParent) => void,
    raw: RawOutputSink,
    opts: { item?: (job: number, index: number, exact: boolean) => void; stallMs?: number } = {},
  ) {
    this.item = opts.item ?? (() => {});
    this.stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
    // what the receivers do is the pool's business: an exception there must not stop the reading here
    this.deliver = (m) => { try { deliver(m); } catch (e) { process.nextTick(() => { throw e; }); } };
    this.raw = (stream, text, job) => { try { raw(stream, text, job); } catch (e) { process.nextTick(() => { throw e; }); } };
    this.lines = new LineAssembler((l) => this.emitLines(l));
  }

  /** Adds a byte source and returns its feeder. A pipe names the stream its raw text belongs to. */
  addSource(streams: StreamName[], rawStream: StreamName | null): RingOrPipeSource {
    const src: Source = { parser: null as unknown as FrameParser, waiting: [], head: 0, streams, rawStream, job: null };
    src.parser = new FrameParser(
      (text) => this.arrive(src, "raw", -1, null, null, text),
      (type, seq, job, index, text) => {
        if (type === "i" || type === "x") { if (job !== null && index !== null) this.item(job, index, type === "x"); }
        else this.arrive(src, type, seq, job, index, text);
      },
    );
    this.sources.push(src);
    return {
      feed: (chunk) => {
        if (this.finished) {
          // a process the worker started still writes to its pipe
          if (rawStream) this.raw(rawStream, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8"), null);
          return;
        }
        src.parser.feed(chunk);
        this.flushLines();
      },
      end: () => {
        if (this.finished) return;
        src.parser.end();
        this.flushLines();
      },
    };
  }

  /**
   * A message from the worker, sent after it had written `barrier` frames: it is handed on once
   * those frames (and the raw output before them) have been.
   */
  message(m: WorkerToParent, barrier = 0): void {
    if (this.finished || (this.held.length === 0 && barrier <= this.next)) this.hand(m);
    else {
      this.held.push({ barrier, message: m });
      this.watch();
    }
  }

  /**
   * The worker is gone and its sources are read to their end (or given up on): whatever is left
   * goes out in the best order there is, unterminated lines ended, held messages handed on.
   */
  finish(): void {
    if (this.finished) return;
    for (const s of this.sources) s.parser.end();
    // frames missing from the sequence will not come
    while (this.skipGap());
    if (this.watchdog) clearTimeout(this.watchdog);
    const held = this.held;
    this.held = [];
    for (const h of held) this.hand(h.message);
    this.lines.endLine("stdout");
    this.lines.endLine("stderr");
    this.lines.flush();
    this.finished = true;
    if (this.joblessTimer) clearTimeout(this.joblessTimer);
  }

  /**
   * Hands a message on, after the lines gathered before it; a job's end also ends its
   * unterminated lines, and those written outside any job before it.
   */
  private hand(m: WorkerToParent): void {
    if (m.t === "done" || m.t === "interrupted") {
      this.lines.endLinesOf(m.id);
      this.lines.endJoblessLines();
    }
    this.flushLines();
    this.deliver(m);
  }

  /** Sends the whole lines gathered so far; an unterminated line written outside a job goes out within JOBLESS_LINE_MS. */
  private flushLines(): void {
    this.lines.flush();
    if (this.joblessTimer || this.finished || !this.lines.holdsJoblessLine()) return;
    this.joblessTimer = setTimeout(() => {
      this.joblessTimer = null;
      if (this.finished) return;
      this.lines.endJoblessLines();
      this.lines.flush();
    }, JOBLESS_LINE_MS);
    this.joblessTimer.unref();
  }

  /** Goes on with the lowest frame or message that waits, as if the frames before it had come. False if nothing waits. */
  private skipGap(): boolean {
    let lowest = this.held.length ? this.held[0].barrier : Infinity;
    for (const s of this.sources) {
      const w = s.waiting[s.head];
      if (w && w.seq < lowest) lowest = w.seq;
    }
    if (lowest === Infinity) return false;
    this.next = Math.max(this.next, lowest);
    this.pump();
    return true;
  }

  private stalled(): boolean {
    return this.held.length > 0 || this.sources.some((s) => s.head < s.waiting.length);
  }

  /** While something waits for a frame, checks now and then that frames still come. */
  private watch(): void {
    if (this.watchdog || this.finished) return;
    const at = this.next;
    this.watchdog = setTimeout(() => {
      // looked at after this turn's input is read: bytes that came while this process was busy count
      setImmediate(() => {
        this.watchdog = null;
        if (this.finished || !this.stalled()) return;
        if (this.next === at) {
          this.skipGap();
          this.lines.flush();
        }
        if (this.stalled()) this.watch();
      });
    }, this.stallMs);
    this.watchdog.unref();
  }

  /** Something parsed from a source: taken now if it is next in order, else it waits. */
  private arrive(s: Source, type: FrameType | "raw", seq: number, job: number | null, index: number | null, text: string): void {
    if (s.head < s.waiting.length || (type !== "raw" && seq > this.next)) {
      s.waiting.push({ type, seq, job, index, text });
      this.watch();
      return;
    }
    this.take(s, type, seq, job, index, text);
    if (type !== "raw" && (this.held.length > 0 || this.sources.some((o) => o.head < o.waiting.length))) this.pump();
  }

  /** Takes every waiting item that is next in order, then hands on the messages that were waiting for them. */
  private pump(): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const s of this.sources) {
        while (s.head < s.waiting.length) {
          const w = s.waiting[s.head];
          if (w.type !== "raw" && w.seq > this.next) break;
          s.head++;
          progress = true;
          this.take(s, w.type, w.seq, w.job, w.index, w.text);
        }
        if (s.head === s.waiting.length) { s.waiting = []; s.head = 0; }
      }
    }
    while (this.held.length && this.held[0].barrier <= this.next) this.hand(this.held.shift()!.message);
  }

  private take(s: Source, type: FrameType | "raw", seq: number, job: number | null, index: number | null, text: string): void {
    if (type === "raw") {
      if (s.rawStream) this.lines.add(s.rawStream, true, s.job ?? undefined, null, text);
      return;
    }
    if (seq >= this.next) this.next = seq + 1;
    if (type === "m") {
      for (const stream of s.streams) this.lines.endLine(stream);
      if (s.rawStream) this.lines.endLine(s.rawStream);
      s.job = job;
    } else this.lines.add(type === "o" || type === "O" ? "stdout" : "stderr", type === "O" || type === "E", job, index, text);
  }

  private emitLines(l: TaggedLines): void {
    if (l.raw) this.raw(l.stream, l.text, l.job);
    else this.deliver({ t: "out", stream: l.stream, text: l.text, job: l.job ?? null, index: l.index });
  }
}
