/**
 * What `tspool run` prints while a notebook runs: each output's text/plain form, streams as they
 * arrive, and live displays (the `%pool` progress panels, updated in place by
 * update_display_data) as one progress line that rewrites itself on a terminal, or as occasional
 * plain lines when the output is a file or a pipe. Workers' console lines inside a live display
 * (`[worker N] ...`) are printed as they appear, each once: also when the display has no room for
 * them any more and the kernel sends them again as stream output. The rest of a live display's
 * final text (the summary) is printed when its cell ends, without the line that already stands
 * printed as its last progress line; a cell that never ends (the run is stopped) gets one line of
 * its last state instead.
 */
import type { JupyterMessage } from "../kernel/wire/message.js";

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** Non-TTY: at most one progress line per display per this many ms. */
const PLAIN_PROGRESS_INTERVAL_MS = 1000;

export interface TerminalStreams {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

interface LiveDisplay {
  text: string;
  shownLine: string;
  shownAt: number;
  /** Per worker label: how many of its labelled lines have been printed (counting lines dropped from the display). */
  printed: Map<string, number>;
  /** Per worker label: how many of its lines dropped from the display have come back as stream output. */
  resent: Map<string, number>;
}

/** `[worker 3] text` or `[worker 3] (stderr) text`: a worker's console line inside a live display's text. */
const WORKER_LINE = /^\[(worker \d+)\]( \(stderr\))? (.*)$/;
const DROPPED = /^… (\d+) earlier lines not shown$/;

export class TerminalPrinter {
  private readonly tty: boolean;
  private progressShown = false;
  private progressText = "";
  /** Live displays (those with a display_id) of the running cell, in order of appearance. */
  private live = new Map<string, LiveDisplay>();
  private atLineStart = true;

  constructor(private readonly streams: TerminalStreams = { out: process.stdout, err: process.stderr }) {
    this.tty = Boolean(streams.out.isTTY);
  }

  cellHeader(position: number, total: number, firstLine: string): void {
    const head = `── cell ${position}/${total} `;
    const preview = firstLine.trim().slice(0, 60);
    this.line(this.streams.out, this.dim(`${head}${"─".repeat(Math.max(3, 30 - head.length))} ${preview}`));
  }

  /** Prints what an iopub message of the running cell shows. */
  show(msg: JupyterMessage): void {
    const c = msg.content as Record<string, any>;
    switch (msg.header.msg_type) {
      case "stream":
        this.write(c.name === "stderr" ? this.streams.err : this.streams.out, this.clean(this.withoutReprints(String(c.text ?? ""))));
        break;
      case "display_data": {
        const id = c.transient?.display_id;
        if (typeof id === "string" && id) this.liveUpdate(id, c.data, true);
        else this.line(this.streams.out, textOf(c.data));
        break;
      }
      case "update_display_data": {
        const id = c.transient?.display_id;
        if (typeof id === "string" && id) this.liveUpdate(id, c.data, false);
        break;
      }
      case "execute_result":
        this.flushLive();
        this.line(this.streams.out, `Out[${c.execution_count ?? " "}]: ${this.clean(textOf(c.data))}`);
        break;
      case "error":
        this.flushLive();
        this.line(this.streams.err, this.clean(errorText(c)));
        break;
    }
  }

  /** Ends the running cell: the progress line goes, live displays print their final text. */
  cellEnd(): void {
    this.flushLive();
  }

  /**
   * Ends a cell that never finished (the run was stopped, or the kernel died): its live displays
   * are frozen mid-way, so instead of their stale panels (progress bars, "running" workers) each
   * gets one line, its last headline, marked as such.
   */
  cellAbandoned(why: string): void {
    this.clearProgress();
    for (const d of this.live.values()) {
      const fresh = this.newWorkerLines(d, false);
      if (fresh.length) this.line(this.streams.out, this.clean(fresh.join("\n")));
      const headline = this.clean(d.text).split("\n").find((l) => l.trim().length > 0);
      if (headline) this.line(this.streams.out, `${headline} (last update before ${why})`);
    }
    this.live.clear();
  }

  /**
   * Prints what is left of the live displays (their summaries) and stops following them: called at
   * the end of a cell, and before its result or error so that the summary comes first, as in a notebook.
   */
  private flushLive(): void {
    this.clearProgress();
    for (const d of this.live.values()) {
      // Off a terminal the progress line is not erased: it stays printed, so it is not repeated.
      const rest = this.newWorkerLines(d, true, this.tty ? undefined : d.shownLine);
      if (rest.length) this.line(this.streams.out, this.clean(rest.join("\n")));
    }
    this.live.clear();
  }

  /**
   * A live display keeps only each worker's latest lines; the kernel sends the lines that leave it
   * as stream output, labelled the same way (`[worker N] text`), in order. Of those, the lines
   * already printed from the display are left out, and the others are marked printed.
   */
  private withoutReprints(text: string): string {
    const d = [...this.live.values()].pop();
    if (!d || !text.includes("[worker ")) return text;
    const kept: string[] = [];
    const lines = text.split("\n");
    const tail = lines.pop()!; // "" when the text ends with a newline; a partial line is kept as it is
    for (const line of lines) {
      const m = WORKER_LINE.exec(line);
      if (!m) {
        kept.push(line + "\n");
        continue;
      }
      const index = d.resent.get(m[1]) ?? 0;
      d.resent.set(m[1], index + 1);
      if (index < (d.printed.get(m[1]) ?? 0)) continue;
      d.printed.set(m[1], index + 1);
      kept.push(line + "\n");
    }
    return kept.join("") + tail;
  }

  /** Makes room for a prompt: the progress line goes and the cursor is at the start of a line. */
  prepareForInput(): void {
    this.clearProgress();
    if (!this.atLineStart) {
      this.streams.out.write("\n");
      this.atLineStart = true;
    }
  }

  /** A message from the runner itself (to stderr). */
  note(text: string): void {
    this.line(this.streams.err, text);
  }

  private liveUpdate(id: string, data: unknown, isNew: boolean): void {
    const text = textOf(data);
    let d = this.live.get(id);
    if (!d) {
      if (!isNew) return; // an update of a display from an earlier cell: the notebook file gets it, the log does not
      d = { text, shownLine: "", shownAt: 0, printed: new Map(), resent: new Map() };
      this.live.set(id, d);
    }
    d.text = text;
    const fresh = this.newWorkerLines(d, false);
    if (fresh.length) this.line(this.streams.out, this.clean(fresh.join("\n")));
    const first = this.clean(text).split("\n").find((l) => l.trim().length > 0) ?? "";
    if (this.tty) {
      this.showProgress(first);
    } else if (first !== d.shownLine && Date.now() - d.shownAt >= PLAIN_PROGRESS_INTERVAL_MS) {
      d.shownLine = first;
      d.shownAt = Date.now();
      this.line(this.streams.out, first);
    }
  }

  /**
   * The worker console lines of a live display's current text that have not been printed yet
   * (marking them printed); with `withOthers`, the display's other lines too, in their order,
   * except its first non-empty one when that is `printedFirst`.
   */
  private newWorkerLines(d: LiveDisplay, withOthers: boolean, printedFirst?: string): string[] {
    const out: string[] = [];
    const seen = new Map<string, number>();
    let firstOther = true;
    for (const line of d.text.split("\n")) {
      const m = WORKER_LINE.exec(line);
      if (!m) {
        if (!withOthers) continue;
        if (firstOther && line.trim()) {
          firstOther = false;
          if (printedFirst && this.clean(line) === printedFirst) continue;
        }
        out.push(line);
        continue;
      }
      const dropped = DROPPED.exec(m[3]);
      if (dropped) {
        seen.set(m[1], Number(dropped[1]));
        continue;
      }
      const index = seen.get(m[1]) ?? 0;
      seen.set(m[1], index + 1);
      if (index >= (d.printed.get(m[1]) ?? 0)) {
        out.push(line);
        d.printed.set(m[1], index + 1);
      }
    }
    return out;
  }

  private showProgress(text: string): void {
    const width = Math.max(20, (this.streams.out.columns || 100) - 1);
    const shown = text.length > width ? text.slice(0, width - 1) + "…" : text;
    if (!this.atLineStart) this.streams.out.write("\n");
    this.streams.out.write(`\r\x1b[2K${shown}`);
    this.progressShown = true;
    this.progressText = shown;
    this.atLineStart = true;
  }

  private clearProgress(): void {
    if (this.progressShown) {
      this.streams.out.write("\r\x1b[2K");
      this.progressShown = false;
    }
  }

  private write(stream: NodeJS.WritableStream, text: string): void {
    if (!text) return;
    const hadProgress = this.progressShown;
    this.clearProgress();
    stream.write(text);
    this.atLineStart = text.endsWith("\n");
    if (hadProgress && this.atLineStart) this.showProgress(this.progressText);
  }

  private line(stream: NodeJS.WritableStream, text: string): void {
    const prefix = this.atLineStart ? "" : "\n";
    this.write(stream, prefix + (text.endsWith("\n") ? text : text + "\n"));
  }

  private clean(text: string): string {
    return this.tty ? text : text.replace(ANSI, "");
  }

  private dim(text: string): string {
    return this.tty ? `\x1b[2m${text}\x1b[0m` : text;
  }
}

/** The text/plain form of a MIME bundle, or a note naming what it holds. */
export function textOf(data: unknown): string {
  const bundle = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  const plain = bundle["text/plain"];
  if (typeof plain === "string") return plain;
  if (Array.isArray(plain)) return plain.join("");
  const kinds = Object.keys(bundle);
  return kinds.length ? `[${kinds.join(", ")}]` : "[empty output]";
}

export function errorText(c: Record<string, any>): string {
  if (Array.isArray(c.traceback) && c.traceback.length > 0) return c.traceback.map(String).join("\n");
  return `${c.ename ?? "Error"}: ${c.evalue ?? ""}`;
}
