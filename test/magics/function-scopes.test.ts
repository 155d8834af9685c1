/**
 * Reading what a function closes over from V8's record of its scope chain (through the
 * inspector, in this very thread): which of the asked-for names the chain binds outside the
 * global scope, in which kind of scope, and their values now.
 */
import { describe, expect, it } from "vitest";
import { scopeVariables } from "../../dist/magics/function-scopes.js";

describe("scopeVariables", () => {
  it("finds the asked-for names a closure binds, with their current values", () => {
    const make = new Function("n", "big", "obj", "let count = 0; return [(x) => x + n + count + Number(big) + obj.v + other, () => ++count]");
    const obj = { v: 1 };
    const [f, inc] = make(5, 10n, obj);
    const first = scopeVariables(f, ["n", "count", "big", "obj", "other", "Number"])!;
    // (`other` and `Number` are globals: not listed)
    expect(Object.fromEntries(first.map((v) => [v.name, [v.scope, v.value]]))).toEqual({ n: ["closure", 5], big: ["closure", 10n], obj: ["closure", obj], count: ["closure", 0] });
    expect(first.find((v) => v.name === "obj")!.value).toBe(obj);
    inc();
    inc();
    // the chain is known now; the values are read again
    expect(scopeVariables(f, ["n", "count", "big", "obj", "other", "Number"])!.find((v) => v.name === "count")!.value).toBe(2);
  });

  it("names the function whose scope it is, and tells blocks from functions", () => {
    const outer = new Function("return function makeAdder(k) { return (x) => x + k }")();
    expect(scopeVariables(outer(3), ["k"])).toEqual([{ name: "k", scope: "closure", owner: "makeAdder", value: 3 }]);
    const inLoop = new Function("const fs = []; for (const v of ['a']) fs.push(() => v); return fs[0]")();
    expect(scopeVariables(inLoop, ["v"])).toEqual([{ name: "v", scope: "block", owner: undefined, value: "a" }]);
  });

  it("finds nothing for a function made at top level, whatever it uses", () => {
    const top = new Function("return (x) => x + Math.max(x, globalThis.q ?? 0)")();
    expect(scopeVariables(top, ["Math", "globalThis", "x"])).toEqual([]);
    expect(scopeVariables(top, ["Math", "globalThis", "x"])).toEqual([]);
  });
});
