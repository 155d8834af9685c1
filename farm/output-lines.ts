/**
 * Turns a worker's output, as pieces of text in the order it wrote them, into whole lines tagged
 * with the stream, the job (and map item) that wrote them and whether they were raw. A line is
 * held until its newline comes, or until something ends it: its job ending, or the same stream
 * getting text with another tag (a raw write in the middle of a console line, another item), or
 * the worker exiting; it is then ended with a newline. Consecutive lines with the same tag go out
 * together, when the caller says the batch is complete (`flush`).
 */

export type StreamName = "stdout" | "stderr";

export interface TaggedLines {
  stream: StreamName;
  raw: boolean;
  /** The job that wrote them; null: none (between jobs); undefined: not known (raw output of unmarked native code). */
  job: number | null | undefined;
  index: number | null;
  /** One or more whole lines, each ending with "\n". */
  text: string;
}

function sameTag(a: TaggedLines, stream: StreamName, raw: boolean, job: number | null | undefined, index: number | null): boolean {
  return a.stream === stream && a.raw === raw && a.job === job && a.index === index;
}

/**
 * Joins `text` to the unterminated line `held`: the whole lines there now, and the rest. Only
 * `text` is searched for a newline, so a long line arriving in many pieces costs linear time.
 */
export function splitLines(held: string, text: string): [whole: string, rest: string] {
  const nl = text.lastIndexOf("\n");
  if (nl < 0) return ["", held + text];
  return [held + text.slice(0, nl + 1), nl === text.length - 1 ? "" : text.slice(nl + 1)];
}

function isJobless(l: TaggedLines | null): boolean {
  return l !== null && (l.job === null || l.job === undefined);
}

export class LineAssembler {
  /** Text just added with one tag, not yet split into lines (a flood adds many small pieces). */
  private pending: TaggedLines | null = null;
  private partial: Record<StreamName, TaggedLines | null> = { stdout: null, stderr: null };
  private run: TaggedLines | null = null;

  constructor(private readonly emit: (lines: TaggedLines) => void) {}

  add(stream: StreamName, raw: boolean, job: number | null | undefined, index: number | null, text: string): void {
    if (!text) return;
    const p = this.pending;
    if (p && sameTag(p, stream, raw, job, index)) {
      p.text += text;
      return;
    }
    this.settle();
    this.pending = { stream, raw, job, index, text };
  }

  /** Ends the unterminated line of a stream, if there is one (its job ended, or the worker did). */
  endLine(stream: StreamName): void {
    this.settle();
    const held = this.partial[stream];
    if (!held) return;
    this.partial[stream] = null;
    this.whole({ ...held, text: held.text + "\n" });
  }

  /** Ends the unterminated lines a job wrote (it is over). */
  endLinesOf(job: number): void {
    this.settle();
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.partial[stream]?.job === job) this.endLine(stream);
    }
  }

  /** Sends the whole lines gathered so far. */
  flush(): void {
    this.settle();
    const run = this.run;
    this.run = null;
    if (run) this.emit(run);
  }

  /** Whether an unterminated line written outside any job (or by unknown native code) is held. */
  holdsJoblessLine(): boolean {
    this.settle();
    return isJobless(this.partial.stdout) || isJobless(this.partial.stderr);
  }

  /**
   * Ends unterminated lines written outside any job: no job's end will come to end them (a
   * timer's write after its task returned), so the caller ends them after a short while.
   */
  endJoblessLines(): void {
    this.settle();
    for (const stream of ["stdout", "stderr"] as const) {
      if (isJobless(this.partial[stream])) this.endLine(stream);
    }
  }

  /** Splits the pending text into whole lines and the start of one (only the new text is searched). */
  private settle(): void {
    const piece = this.pending;
    if (!piece) return;
    this.pending = null;
    const { stream } = piece;
    const held = this.partial[stream];
    if (held && !sameTag(held, stream, piece.raw, piece.job, piece.index)) this.endLine(stream);
    const [whole, rest] = splitLines(this.partial[stream]?.text ?? "", piece.text);
    this.partial[stream] = rest ? { ...piece, text: rest } : null;
    if (whole) this.whole({ ...piece, text: whole });
  }

  private whole(lines: TaggedLines): void {
    if (this.run && sameTag(this.run, lines.stream, lines.raw, lines.job, lines.index)) {
      this.run.text += lines.text;
      return;
    }
    const run = this.run;
    this.run = lines;
    if (run) this.emit(run);
  }
}
