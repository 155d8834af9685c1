/**
 * imap and imapUnordered over two million items: a whole chunk of results (hundreds of thousands)
 * lands in the iterator's buffer at once, and the consumer takes them one by one. That must cost
 * O(1) per item (it was quadratic: minutes for two million items). The time-out only guards
 * against that; speed itself is measured in bench/.
 */
import { describe, expect, it } from "vitest";
import { Pool } from "../../dist/farm/index.js";

describe("iterating two million results", () => {
  // about 1 s on an idle machine (minutes when quadratic)
  it("imap and imapUnordered deliver every item", { timeout: 60_000 }, async () => {
    await using pool = new Pool({ workers: 2 });
    const n = 2_000_000;
    const items = Array.from({ length: n }, (_, i) => i);
    let next = 0;
    for await (const v of pool.imap((x: number) => x * 2, items)) {
      if (v !== next * 2) throw new Error(`imap gave ${v} at position ${next}`);
      next++;
    }
    expect(next).toBe(n);
    const seen = new Uint8Array(n);
    let count = 0;
    for await (const v of pool.imapUnordered((x: number) => x * 2, items)) { seen[v / 2]++; count++; }
    expect(count).toBe(n);
    expect(seen.every((c) => c === 1)).toBe(true);
  });
});
