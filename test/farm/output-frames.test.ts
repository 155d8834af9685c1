/**
 * The parent's reading of worker output, on byte streams built here: frames and raw text cut at
 * any byte (inside a header, a payload, a UTF-8 character), raw text that looks a little like a
 * frame, frames of two pipes put back in the order they were written, messages held until the
 * output before them came, and a missing frame that does not hold results back for ever.
 */
import { describe, expect, it } from "vitest";
import { FrameParser, frameHeader } from "../../dist/farm/output-frames.js";
import { OutputReceiver } from "../../dist/farm/output-receiver.js";
import type { WorkerToParent } from "../../dist/farm/messages.js";

const frame = (type: "o" | "e" | "O" | "E" | "m", seq: number, job: number | null, index: number | null, text = "") =>
  frameHeader(type, seq, job, index, text.length) + text;

function parse(chunks: Buffer[]): string[] {
  const out: string[] = [];
  const p = new FrameParser((t) => out.push(`raw:${t}`), (type, seq, job, index, text) => out.push(`${type}${seq}/${job}/${index}:${text}`));
  for (const c of chunks) p.feed(c);
  p.end();
  // adjacent raw pieces are one raw text, however the bytes were cut
  return out.reduce<string[]>((acc, x) => {
    if (x.startsWith("raw:") && acc.at(-1)?.startsWith("raw:")) acc[acc.length - 1] += x.slice(4);
    else acc.push(x);
    return acc;
  }, []);
}

describe("FrameParser", () => {
  const stream = Buffer.from([
    "raw before ", frame("o", 0, 3, null, "héllo €\n"), "\u0000 a lone NUL, ", "\u0000\u001enot a header\n",
    frame("e", 1, 3, 7, "😀 two units\n"), frame("m", 2, null, null), "raw after ", frame("O", 3, 4, null, "x"), "tail ü",
  ].join(""));
  const whole = parse([stream]);

  it("tells frames from raw text", () => {
    expect(whole).toEqual([
      "raw:raw before ", "o0/3/null:héllo €\n", "raw:\u0000 a lone NUL, \u0000\u001enot a header\n",
      "e1/3/7:😀 two units\n", "m2/null/null:", "raw:raw after ", "O3/4/null:x", "raw:tail ü",
    ]);
  });

  it("gives the same wherever the bytes are cut", () => {
    for (let a = 1; a < stream.length; a++) {
      expect(parse([stream.subarray(0, a), stream.subarray(a)])).toEqual(whole);
    }
    expect(parse([...stream].map((b) => Buffer.from([b])))).toEqual(whole);
  });

  it("gives what arrived of a frame cut short by the end of the stream", () => {
    const cut = Buffer.from(frame("o", 0, 1, null, "complete line\n")).subarray(0, -5);
    expect(parse([cut])).toEqual(["o0/1/null:complete "]);
  });
});

describe("OutputReceiver", () => {
  function receiver(stallMs?: number) {
    const got: string[] = [];
    const r = new OutputReceiver(
      (m: WorkerToParent) => got.push(m.t === "out" ? `${m.stream} job ${m.job}: ${m.text}` : m.t),
      (stream, text, job) => got.push(`raw ${stream} job ${job}: ${text}`),
      { stallMs },
    );
    const frames = r.addSource(["stdout", "stderr"], null);
    const fd1 = r.addSource([], "stdout");
    const fd2 = r.addSource([], "stderr");
    return { r, got, frames, fd1, fd2 };
  }
  const bytes = (...parts: string[]) => Buffer.from(parts.join(""));

  it("puts frames from several pipes back in the order written, raw text tagged by the markers in its pipe", () => {
    const { r, got, frames, fd1, fd2 } = receiver();
    // the worker wrote: markers 0 (frames), 1 (fd 1), 2 (fd 2) for job 5; raw on fd 1 and 2; "a" (3); "b" (4); end markers 5, 6, 7
    fd2.feed(bytes(frame("m", 2, 5, null), "native err\n", frame("m", 7, null, null)));
    fd1.feed(bytes(frame("m", 1, 5, null), "r1 ", "partial", frame("m", 6, null, null)));
    expect(got).toEqual([]); // raw text waits for the marker before it, which waits for frame 0
    r.message({ t: "stats", rss: 1, heapUsed: 1 }, 8);
    frames.feed(bytes(frame("m", 0, 5, null), frame("o", 3, 5, null, "a\n"), frame("e", 4, 5, 0, "b"), frame("m", 5, null, null)));
    expect(got).toEqual([
      "raw stderr job 5: native err\n", "raw stdout job 5: r1 partial\n", "stdout job 5: a\n", "stderr job 5: b\n", "stats",
    ]);
  });

  it("holds a message until the output written before it has come", () => {
    const { r, got, frames } = receiver();
    r.message({ t: "ready", pid: 1, threadId: 0 }, 0);
    r.message({ t: "stats", rss: 1, heapUsed: 1 }, 2);
    expect(got).toEqual(["ready"]);
    frames.feed(bytes(frame("o", 0, 1, null, "one\n")));
    expect(got).toEqual(["ready", "stdout job 1: one\n"]);
    frames.feed(bytes(frame("o", 1, 1, null, "two\n")));
    expect(got).toEqual(["ready", "stdout job 1: one\n", "stdout job 1: two\n", "stats"]);
  });

  it("goes on without a frame that never comes, after a while", async () => {
    const { r, got, frames } = receiver(50);
    frames.feed(bytes(frame("o", 0, 1, null, "zero\n"), frame("o", 2, 1, null, "two\n")));
    r.message({ t: "stats", rss: 1, heapUsed: 1 }, 3);
    expect(got).toEqual(["stdout job 1: zero\n"]);
    await new Promise((res) => setTimeout(res, 300));
    expect(got).toEqual(["stdout job 1: zero\n", "stdout job 1: two\n", "stats"]);
  });

  it("hands everything on when the worker is gone, unterminated lines ended last", () => {
    const { r, got, frames, fd2 } = receiver();
    frames.feed(bytes(frame("o", 1, 2, null, "no newline")));
    fd2.feed(bytes("FATAL ERROR: out of memory"));
    r.message({ t: "stats", rss: 1, heapUsed: 1 }, 2);
    r.finish();
    expect(got).toEqual(["stats", "stdout job 2: no newline\n", "raw stderr job undefined: FATAL ERROR: out of memory\n"]);
  });
});
