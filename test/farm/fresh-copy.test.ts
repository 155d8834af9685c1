/**
 * The copy a worker installs of a dependency's snapshot for each call: equal to what
 * deserializing the snapshot gives, sharing nothing with it, with shared references and cycles
 * kept.
 */
import { describe, expect, it } from "vitest";
import { deserialize, serialize } from "node:v8";
import { Pristine } from "../../dist/farm/worker/fresh-copy.js";

function sample() {
  const shared = { s: 1 };
  const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const named = Object.assign([1, 2], { meta: "M" });
  const cyc: Record<string, unknown> = { name: "cyc" };
  cyc.self = cyc;
  return {
    nums: [1.5, 2, -0, NaN], holes, named, shared, again: shared, cyc,
    map: new Map<unknown, unknown>([[shared, "by object"], ["k", [shared]]]), set: new Set([shared, 2]),
    date: new Date(5), re: /a(b)/gi, big: 2n ** 70n, str: "x", nul: null, und: undefined,
    f64: new Float64Array([1, 2]), buf: Buffer.from("hi"), view: new DataView(new Uint8Array([1, 2, 3]).buffer, 1, 2),
    ab: new Uint8Array([9, 8]).buffer, err: new TypeError("bad"), boxed: new Number(3),
  };
}

describe("a pristine value's copies", () => {
  it("are what deserializing gives, sharing nothing with it, with shared references and cycles kept", () => {
    const original = deserialize(serialize(sample()));
    const pristine = new Pristine(original);
    const copy = pristine.copy();
    expect(copy).toEqual(original);
    expect(copy.nums).not.toBe(original.nums);
    expect(Object.is(copy.nums[2], -0)).toBe(true);
    expect(1 in copy.holes).toBe(false);
    expect(copy.named.meta).toBe("M");
    expect(copy.again).toBe(copy.shared);
    expect(copy.shared).not.toBe(original.shared);
    expect([...copy.map.keys()][0]).toBe(copy.shared);
    expect((copy.map.get("k") as unknown[])[0]).toBe(copy.shared);
    expect(copy.cyc.self).toBe(copy.cyc);
    expect(Buffer.isBuffer(copy.buf) && copy.buf.toString()).toBe("hi");
    expect([...new Uint8Array(copy.view.buffer)]).toEqual([2, 3]); // just the view's bytes
    expect(copy.err).toBeInstanceOf(TypeError);
    expect(copy.err.message).toBe("bad");
    // changing the copy leaves the original as it was
    copy.nums.push(1);
    copy.f64[0] = 100;
    copy.buf[0] = 0;
    new Uint8Array(copy.ab)[0] = 0;
    copy.shared.s = 2;
    copy.date.setTime(0);
    (copy.map as Map<unknown, unknown>).clear();
    expect(original).toEqual(deserialize(serialize(sample())));
    // later copies too (what the first copy learnt about the arrays does not change them)
    const again = pristine.copy();
    expect(again).toEqual(original);
    expect(again.nums).not.toBe(copy.nums);
    again.nums.length = 0;
    expect(pristine.copy().nums).toHaveLength(4);
  });

  it("copies deep data without recursion", () => {
    let deep: Record<string, unknown> = { end: true };
    for (let i = 0; i < 200_000; i++) deep = { next: deep };
    let copy = new Pristine(deep).copy();
    let n = 0;
    while (copy.next) {
      copy = copy.next as Record<string, unknown>;
      n++;
    }
    expect([n, copy.end]).toEqual([200_000, true]);
  });
});
