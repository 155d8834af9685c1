/**
 * What a task throws comes back with everything that describes it: an AggregateError's `errors`
 * (each with its own name, message, stack and cause, also nested), and own properties that are
 * not enumerable (a `code` set with Object.defineProperty), for process and thread workers.
 */
import { describe, expect, it } from "vitest";
import { Pool, RemoteError } from "../../dist/farm/index.js";

for (const threads of [false, true]) {
  describe(threads ? "thread workers" : "process workers", () => {
    it("an AggregateError keeps its errors, each described like a cause", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const err = await pool.apply(() => {
        const inner = new AggregateError([new RangeError("deep")], "inner group");
        throw new AggregateError([new Error("a", { cause: "why a" }), new TypeError("b"), inner, "not an error"], "many failed");
      }).catch((e) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.remoteName).toBe("AggregateError");
      expect(err.remoteMessage).toBe("many failed");
      const errors = err.errors as unknown[];
      expect(errors).toHaveLength(4);
      const [a, b, inner, plain] = errors as [Error, Error, Error & { errors: Error[] }, string];
      expect([a.name, a.message, a.cause]).toEqual(["Error", "a", "why a"]);
      expect([b.name, b.message]).toEqual(["TypeError", "b"]);
      expect(b.stack).toMatch(/^TypeError: b\n\s+at /);
      expect([inner.name, inner.message]).toEqual(["AggregateError", "inner group"]);
      expect(inner.errors.map((e) => `${e.name}: ${e.message}`)).toEqual(["RangeError: deep"]);
      expect(plain).toBe("not an error");
      expect(err.props).toEqual({});
    });

    it("non-enumerable own properties come along; an error without `errors` has none", async () => {
      await using pool = new Pool({ workers: 1, threads });
      const err = await pool.apply(() => {
        const e = new Error("x");
        Object.defineProperty(e, "code", { value: "E_HIDDEN", enumerable: false });
        (e as Error & { detail: unknown }).detail = { n: 1 };
        throw e;
      }).catch((e) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(err.props).toEqual({ code: "E_HIDDEN", detail: { n: 1 } });
      expect("errors" in err).toBe(false);
    });
  });
}
