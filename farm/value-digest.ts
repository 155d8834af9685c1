/**
 * A content digest of a value as structured clone would copy it: equal content gives an equal
 * digest, whatever way V8 happens to store it. (V8's own serializer is not usable for this: the
 * same array of numbers serializes differently once the engine has changed how it stores the
 * elements, e.g. doubles versus small integers, packed versus holey, which made cache keys of
 * unchanged data differ.) Arrays of numbers, the common large case, take one tight loop.
 *
 * Throws for what cannot be digested (functions, symbols, shared memory, whose content can change
 * at any time): callers then treat the value as always new.
 */
import { createHash, type Hash } from "node:crypto";

const CHUNK = 64 * 1024;

/** Feeds tagged primitives to a hash through a reusable buffer. */
class Feed {
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private readonly view = new DataView(this.buf.buffer, this.buf.byteOffset, CHUNK);
  private at = 0;

  constructor(private readonly hash: Hash) {}

  private room(n: number): void {
    if (this.at + n <= CHUNK) return;
    this.flush();
  }

  flush(): void {
    if (this.at > 0) this.hash.update(this.buf.subarray(0, this.at));
    this.at = 0;
  }

  tag(t: number): void {
    this.room(1);
    this.buf[this.at++] = t;
  }

  u32(n: number): void {
    this.room(4);
    this.view.setUint32(this.at, n >>> 0, true);
    this.at += 4;
  }

  f64(t: number, x: number): void {
    this.room(9);
    this.buf[this.at] = t;
    this.view.setFloat64(this.at + 1, x, true);
    this.at += 9;
  }

  /** A string as its UTF-16 code units (short ones copied here, long ones hashed directly). */
  text(t: number, s: string): void {
    const n = s.length;
    this.room(5 + 2 * Math.min(n, 256));
    this.buf[this.at] = t;
    this.view.setUint32(this.at + 1, n, true);
    this.at += 5;
    if (n <= 256) {
      for (let i = 0; i < n; i++) {
        this.view.setUint16(this.at, s.charCodeAt(i), true);
        this.at += 2;
      }
    } else {
      this.flush();
      this.hash.update(s, "utf16le");
    }
  }

  bytes(t: number, b: Uint8Array): void {
    this.tag(t);
    this.u32(b.byteLength);
    this.flush();
    this.hash.update(b);
  }
}

// One byte per kind of value.
const T = {
  undef: 1, nul: 2, tru: 3, fals: 4, num: 5, str: 6, big: 7, arr: 8, hole: 9, obj: 10, key: 11, map: 12, set: 13,
  date: 14, regexp: 15, view: 16, buffer: 17, ref: 18, error: 19, boxed: 20, end: 21,
} as const;

function cannot(what: string): never {
  throw new TypeError(`cannot digest ${what}`);
}

/** sha1 (base64url) of `value`'s content. */
export function digestValue(value: unknown): string {
  const hash = createHash("sha1");
  const feed = new Feed(hash);
  const seen = new Map<object, number>();

  const walk = (v: unknown): void => {
    switch (typeof v) {
      case "number": feed.f64(T.num, v); return;
      case "string": feed.text(T.str, v); return;
      case "boolean": feed.tag(v ? T.tru : T.fals); return;
      case "undefined": feed.tag(T.undef); return;
      case "bigint": feed.text(T.big, v.toString(16)); return;
      case "symbol": cannot("a Symbol");
      case "function": cannot("a function");
    }
    if (v === null) { feed.tag(T.nul); return; }
    const o = v as object;
    const ref = seen.get(o);
    if (ref !== undefined) { feed.tag(T.ref); feed.u32(ref); return; }
    seen.set(o, seen.size);
    if (Array.isArray(o)) {
      feed.tag(T.arr);
      feed.u32(o.length);
      for (let i = 0; i < o.length; i++) {
        const x = o[i];
        if (typeof x === "number") feed.f64(T.num, x);
        else if (x === undefined && !(i in o)) feed.tag(T.hole);
        else walk(x);
      }
      // (named properties an array may also have are left out: listing them costs a string per
      // element, which for large arrays would cost more than everything else here)
      feed.tag(T.end);
      return;
    }
    if (ArrayBuffer.isView(o)) {
      if (typeof SharedArrayBuffer !== "undefined" && o.buffer instanceof SharedArrayBuffer) cannot("shared memory");
      feed.text(T.view, o.constructor.name);
      feed.bytes(T.view, new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
      return;
    }
    if (o instanceof ArrayBuffer) { feed.bytes(T.buffer, new Uint8Array(o)); return; }
    if (typeof SharedArrayBuffer !== "undefined" && o instanceof SharedArrayBuffer) cannot("shared memory");
    if (o instanceof Map) {
      feed.tag(T.map);
      feed.u32(o.size);
      for (const [k, x] of o) { walk(k); walk(x); }
      return;
    }
    if (o instanceof Set) {
      feed.tag(T.set);
      feed.u32(o.size);
      for (const x of o) walk(x);
      return;
    }
    if (o instanceof Date) { feed.f64(T.date, o.getTime()); return; }
    if (o instanceof RegExp) { feed.text(T.regexp, `${o.flags}/${o.source}`); return; }
    if (o instanceof Error) { feed.text(T.error, `${o.name}\n${o.message}\n${o.stack ?? ""}`); return; }
    if (o instanceof Number || o instanceof String || o instanceof Boolean || o instanceof BigInt) {
      feed.tag(T.boxed);
      walk(o.valueOf());
      return;
    }
    // plain objects, and other objects as structured clone copies them: their own enumerable fields
    feed.tag(T.obj);
    for (const k of Object.keys(o)) {
      feed.text(T.key, k);
      walk((o as Record<string, unknown>)[k]);
    }
    feed.tag(T.end);
  };

  walk(value);
  feed.flush();
  return hash.digest("base64url");
}
