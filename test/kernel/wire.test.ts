/**
 * The wire pieces on their own: signing, frames, cursor conversion, history globbing.
 */
import { describe, expect, it } from "vitest";
import { codePointToUtf16, utf16ToCodePoint } from "../../kernel/wire/cursor.js";
import { decodeMessage, DELIMITER, encodeMessage, makeMessage } from "../../kernel/wire/message.js";
import { createSigner } from "../../kernel/wire/signing.js";
import { globToRegExp } from "../../kernel/history.js";
import { createHmac } from "node:crypto";

describe("signing and frames", () => {
  const signer = createSigner("secret-key");

  it("round-trips identities, header, content and buffers, signed with HMAC-SHA256 over the four JSON frames", () => {
    const msg = makeMessage({ msgType: "execute_request", content: { code: "1" }, session: "s1", identities: [Buffer.from("peer")], buffers: [Buffer.from([1, 2, 3])] });
    const frames = encodeMessage(msg, signer);
    expect(frames[0].toString()).toBe("peer");
    expect(frames[1].toString()).toBe(DELIMITER);
    const expected = createHmac("sha256", "secret-key").update(frames[3]).update(frames[4]).update(frames[5]).update(frames[6]).digest("hex");
    expect(frames[2].toString()).toBe(expected);
    const r = decodeMessage(frames, signer);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.identities.map(String)).toEqual(["peer"]);
    expect(r.message.header.msg_type).toBe("execute_request");
    expect(r.message.content).toEqual({ code: "1" });
    expect([...r.message.buffers[0]]).toEqual([1, 2, 3]);
  });

  it("rejects a wrong signature, a tampered body and missing frames", () => {
    const frames = encodeMessage(makeMessage({ msgType: "x", content: { a: 1 }, session: "s" }), signer);
    expect(decodeMessage(frames, createSigner("other"))).toMatchObject({ ok: false, reason: "invalid signature" });
    const tampered = [...frames];
    tampered[5] = Buffer.from(JSON.stringify({ a: 2 }));
    expect(decodeMessage(tampered, signer)).toMatchObject({ ok: false, reason: "invalid signature" });
    expect(decodeMessage(frames.slice(0, 4), signer).ok).toBe(false);
    expect(decodeMessage(frames.slice(1), signer).ok).toBe(false);
  });

  it("an empty key means unsigned messages", () => {
    const none = createSigner("");
    const frames = encodeMessage(makeMessage({ msgType: "x", content: {}, session: "s" }), none);
    expect(frames[1].toString()).toBe("");
    expect(decodeMessage(frames, none).ok).toBe(true);
  });

  it("rejects an unknown signature scheme with a clear message", () => {
    expect(() => createSigner("k", "sha256")).toThrow(/hmac-<digest>/);
  });
});

describe("cursor positions", () => {
  it("converts code points to UTF-16 offsets and back across astral characters", () => {
    const text = "a😀b😀c";
    expect(codePointToUtf16(text, 2)).toBe(3);
    expect(codePointToUtf16(text, 5)).toBe(7);
    expect(codePointToUtf16(text, 99)).toBe(7);
    expect(utf16ToCodePoint(text, 3)).toBe(2);
    expect(utf16ToCodePoint(text, 7)).toBe(5);
    for (let cp = 0; cp <= 5; cp++) expect(utf16ToCodePoint(text, codePointToUtf16(text, cp))).toBe(cp);
  });
});

describe("history glob", () => {
  it("matches the whole source with *, ? and classes, case-sensitively", () => {
    expect(globToRegExp("const *").test("const a = 1")).toBe(true);
    expect(globToRegExp("const *").test("let a = 1")).toBe(false);
    expect(globToRegExp("*pool*").test("await pool.map(f, xs)")).toBe(true);
    expect(globToRegExp("a?c").test("abc")).toBe(true);
    expect(globToRegExp("a?c").test("abbc")).toBe(false);
    expect(globToRegExp("[ab]x").test("bx")).toBe(true);
    expect(globToRegExp("[!ab]x").test("bx")).toBe(false);
    expect(globToRegExp("Const*").test("const a")).toBe(false);
    expect(globToRegExp("a.b(c)").test("a.b(c)")).toBe(true);
    expect(globToRegExp("*").test("multi\nline")).toBe(true);
  });
});
