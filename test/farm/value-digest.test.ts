/**
 * Content digests of values (the keys of shipped dependencies): equal content, equal digest, however
 * V8 stores it; and snapshots of dependency values (their bytes, taken when a call is made).
 */
import { describe, expect, it } from "vitest";
import { deserialize } from "node:v8";
import { digestValue } from "../../dist/farm/value-digest.js";
import { snapshotValue } from "../../dist/farm/value-snapshot.js";
import { Value } from "../../dist/farm/index.js";

describe("digestValue", () => {
  it("gives equal digests to equal content stored differently (doubles, small integers, holey arrays)", () => {
    const doubles = [0, 1.5, 3];
    const mixed: unknown[] = [0, 1.5, "x"];
    mixed[2] = 3; // now generic elements, with 0 and 3 as small integers
    const holey = new Array(3);
    holey[2] = 3;
    holey[0] = 0;
    holey[1] = 1.5;
    expect(digestValue(mixed)).toBe(digestValue(doubles));
    expect(digestValue(holey)).toBe(digestValue(doubles));
    const grown = Array.from({ length: 50_000 }, (_, i) => i * 1.5);
    const d = digestValue(grown);
    grown.push(1.25);
    grown.pop();
    (grown as unknown[])[7] = "s";
    (grown as unknown[])[7] = 10.5;
    expect(digestValue(grown)).toBe(d);
  });

  it("tells apart different content of every kind", () => {
    const values: unknown[] = [
      0, -0, 1, NaN, "0", "", "é", true, false, null, undefined, 1n, [], [undefined], new Array(1), {}, { a: 1 }, { b: 1 }, { a: "1" },
      [1, 2], [2, 1], new Map([[1, 2]]), new Map([[2, 1]]), new Set([1]), new Date(0), new Date(1), /a/g, /a/, new Uint8Array([1]),
      new Float64Array([1]), new Uint8Array([2]), new ArrayBuffer(1), [[1], [1]], "x".repeat(1000), "y".repeat(1000), new Error("e"),
    ];
    const digests = values.map(digestValue);
    expect(new Set(digests).size).toBe(values.length);
  });

  it("follows shared and cyclic references, and refuses what cannot be copied or changes by itself", () => {
    const leaf = { v: 1 };
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(digestValue([leaf, leaf])).not.toBe(digestValue([{ v: 1 }, { v: 1 }]));
    expect(digestValue(cyclic)).toBe(digestValue(cyclic));
    expect(() => digestValue({ f: () => 1 })).toThrow(/function/);
    expect(() => digestValue([Symbol("s")])).toThrow(/Symbol/);
    expect(() => digestValue(new Int32Array(new SharedArrayBuffer(8)))).toThrow(/shared memory/);
  });
});

describe("snapshotValue", () => {
  it("takes the value's bytes now, with its content key; unchanged content reuses the bytes", () => {
    const data = { xs: [1, 2, 3], when: new Date(1) };
    const first = snapshotValue(data);
    expect(deserialize(first.bytes!)).toEqual(data);
    expect(first.key).toBe(digestValue(data));
    data.xs.push(4);
    const changed = snapshotValue(data);
    expect(changed.key).not.toBe(first.key);
    expect(deserialize(changed.bytes!)).toEqual({ xs: [1, 2, 3, 4], when: new Date(1) });
    expect(deserialize(first.bytes!)).toEqual({ xs: [1, 2, 3], when: new Date(1) }); // the earlier snapshot is as it was
    const again = snapshotValue(data);
    expect(again.key).toBe(changed.key);
    expect(again.bytes).toBe(changed.bytes); // not serialized again
  });

  it("leaves handles and shared memory live (no bytes): they are shared by design", () => {
    expect(snapshotValue({ v: new Value("i32", 1) }).bytes).toBeUndefined();
    const shared = snapshotValue(new Int32Array(new SharedArrayBuffer(8)));
    expect(shared.bytes).toBeUndefined();
    expect(shared.key).not.toBe(snapshotValue(new Int32Array(new SharedArrayBuffer(8))).key); // never taken for unchanged
  });
});
