/**
 * The format in which a worker hands its captured output (console.*, process.stdout/stderr
 * writes) to the parent. A process worker writes these frames straight to its fd 1 and fd 2, the
 * pipes that also carry its raw output (fs.writeSync(1, ...), native code), so the parent sees
 * both in the order they were written; a thread worker writes them into a shared ring.
 *
 * A frame is FRAME_MAGIC, a header line `<type><seq>,<job>,<index>,<length>\n`, then the payload:
 * <length> UTF-16 code units of text (the text's JavaScript length), sent as UTF-8 like the rest
 * of the stream. Job and index are empty for null.
 *   type "o" / "e": text written to stdout / stderr through the captured streams, while that job
 *                   (and map item) ran. It need not end with a newline: the parent joins lines.
 *   type "O" / "E": the same for raw writes the worker caught on their way to fd 1 / fd 2
 *                   (fs.writeSync(1, ...) and friends), so they keep their place among the lines.
 *   type "m":       marker: from here on, the worker runs that job (or none); no payload. Raw bytes
 *                   after it belong to that job.
 *   type "i" / "x": the map item (index) the worker runs in that job: "i" as its helper thread saw
 *                   it a moment ago (the worker may have gone on since), "x" exactly, written when
 *                   the process exits. No payload, and outside the numbering (seq 0): they are
 *                   taken as they arrive (see farm/current-item.ts).
 * seq numbers every frame a worker wrote, across all its pipes, so that frames read from two pipes
 * can be put back in the order they were written, and a message can say how much output was
 * written before it.
 */
import { StringDecoder } from "node:string_decoder";

export const FRAME_MAGIC = "\u0000\u001e";
/** Longer than any valid header; a "header" without a newline by then was raw text after all. */
const MAX_HEADER = 96;

export type FrameType = "o" | "e" | "O" | "E" | "m" | "i" | "x";
const FRAME_TYPES = new Set<string>(["o", "e", "O", "E", "m", "i", "x"]);

export function frameHeader(type: FrameType, seq: number, job: number | null, index: number | null, length: number): string {
  return `${FRAME_MAGIC}${type}${seq},${job ?? ""},${index ?? ""},${length}\n`;
}

export type FrameHandler = (type: FrameType, seq: number, job: number | null, index: number | null, text: string) => void;

interface Header { type: FrameType; seq: number; job: number | null; index: number | null; length: number }

/**
 * Reads the header between `from` (after the magic) and `to` (its newline) into `into`; false if
 * it is not one. (Called for every line of a flood: no allocation.)
 */
function parseHeader(s: string, from: number, to: number, into: Header): boolean {
  const type = s[from] as FrameType;
  if (!FRAME_TYPES.has(type)) return false;
  let field = 0;
  let value = -1; // -1: empty
  for (let i = from + 1; i <= to; i++) {
    const c = i === to ? 0x2c : s.charCodeAt(i);
    if (c === 0x2c /* , */) {
      if (field === 0) into.seq = value;
      else if (field === 1) into.job = value < 0 ? null : value;
      else if (field === 2) into.index = value < 0 ? null : value;
      else if (field === 3) into.length = value;
      else return false;
      field++;
      value = -1;
    } else if (c >= 0x30 && c <= 0x39) {
      value = (value < 0 ? 0 : value * 10) + (c - 0x30);
    } else return false;
  }
  into.type = type;
  return field === 4 && into.seq >= 0 && into.length >= 0;
}

/**
 * Splits a byte stream into frames and the raw text between them. Frames, raw text and UTF-8
 * characters may be cut anywhere between two feeds.
 */
export class FrameParser {
  private readonly decoder = new StringDecoder("utf8");
  /** Text that may start a frame, kept until the rest of it arrives. */
  private carry = "";
  /** A frame whose payload is still arriving. */
  private open: { header: Header; text: string } | null = null;
  private readonly header: Header = { type: "o", seq: 0, job: null, index: null, length: 0 };

  constructor(private readonly onRaw: (text: string) => void, private readonly onFrame: FrameHandler) {}

  feed(chunk: Uint8Array): void {
    this.parse(this.decoder.write(chunk));
  }

  /** The stream ended: a frame cut short gives what arrived of it, a half frame header is raw text. */
  end(): void {
    this.parse(this.decoder.end());
    if (this.open) this.emitOpen();
    if (this.carry) {
      const rest = this.carry;
      this.carry = "";
      this.onRaw(rest);
    }
  }

  private parse(input: string): void {
    let s = input;
    if (this.carry) {
      s = this.carry + s;
      this.carry = "";
    }
    let pos = 0;
    if (this.open) {
      const open = this.open;
      pos = Math.min(open.header.length - open.text.length, s.length);
      open.text += s.slice(0, pos);
      if (open.text.length < open.header.length) return;
      this.emitOpen();
    }
    while (pos < s.length) {
      const z = s.indexOf(FRAME_MAGIC, pos);
      if (z < 0) {
        // a magic may be cut after its first character
        const keep = s.charCodeAt(s.length - 1) === 0 ? 1 : 0;
        if (s.length - keep > pos) this.onRaw(s.slice(pos, s.length - keep));
        if (keep) this.carry = "\u0000";
        return;
      }
      if (z > pos) this.onRaw(s.slice(pos, z));
      const nl = s.indexOf("\n", z + 2);
      if (nl < 0 && s.length - z < MAX_HEADER) { this.carry = s.slice(z); return; }
      const header = this.header;
      if (nl < 0 || nl - z > MAX_HEADER || !parseHeader(s, z + 2, nl, header)) { this.onRaw(s.slice(z, z + 2)); pos = z + 2; continue; }
      const start = nl + 1;
      const end = start + header.length;
      if (end <= s.length) {
        this.onFrame(header.type, header.seq, header.job, header.index, s.slice(start, end));
        pos = end;
      } else {
        this.open = { header: { ...header }, text: s.slice(start) };
        return;
      }
    }
  }

  private emitOpen(): void {
    const { header, text } = this.open!;
    this.open = null;
    this.onFrame(header.type, header.seq, header.job, header.index, text);
  }
}
