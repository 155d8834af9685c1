import { describe, expect, it } from "vitest";
import net from "node:net";
import vm from "node:vm";
import path from "node:path";
import { dynamicImports, freeIdentifiers } from "../../dist/magics/free-identifiers.js";
import { captureDependencies, CaptureError } from "../../dist/magics/capture.js";
import { BindingRegistry } from "../../dist/kernel/compiler/bindings.js";

describe("free identifiers", () => {
  it("ignores parameters, locals, property names and labels; keeps shorthand and computed names", () => {
    expect(freeIdentifiers("(x) => x * k + helper(x).y.z")).toEqual(["k", "helper"]);
    expect(freeIdentifiers("function f(a, {b, c: [d]}, ...e) { let g = a + b + d + h; var q; { const h = 1; return h + i + q + e + g; } }")).toEqual(["h", "i"]);
    expect(freeIdentifiers("(x) => { try { x() } catch (err) { return err + y } for (const k of ks) k; l: for (;;) break l; return { a, b: c, [dd]: 1, m() { return this.z } } }"))
      .toEqual(["y", "ks", "a", "c", "dd"]);
    expect(freeIdentifiers("class A extends B { static s = C; m(x) { return new A(x) + E } }")).toEqual(["B", "C", "E"]);
    expect(freeIdentifiers("(x = dflt, {p = dflt2} = {}) => x + p")).toEqual(["dflt", "dflt2"]);
    expect(freeIdentifiers("function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }")).toEqual([]);
    expect(freeIdentifiers("function (n) { return arguments.length + undefined }")).toEqual([]);
    expect(freeIdentifiers("async (u) => { const m = await import(u); return typeof zz + new.target }")).toEqual(["zz"]);
    expect(freeIdentifiers("((")).toBeUndefined();
  });
  it("counts names the code only tests with typeof as free too", () => {
    const src = "(x) => typeof window !== 'undefined' ? window.k : typeof (Deno) === 'object' ? x : other";
    expect(freeIdentifiers(src)).toEqual(["window", "Deno", "other"]);
  });
  it("lists the modules loaded with import() of a string, also through a resolving function", () => {
    expect(dynamicImports("async (x) => [await import('node:os'), await import(resolve(\"./a.ts\")), await import(x), import(`t`)]")).toEqual(["node:os", "./a.ts", "t"]);
    expect(freeIdentifiers("async () => import(resolve('./a.ts'))")).toEqual(["resolve"]);
  });
  it("hoists var and function declarations to their scope", () => {
    expect(freeIdentifiers("() => { g(); function g() { return v } var v = 1; }")).toEqual([]);
    expect(freeIdentifiers("() => { { let w = 1 } return w }")).toEqual(["w"]);
  });
});

function registry() {
  const r = new BindingRegistry();
  r.define([
    { name: "k", kind: "const", cell: 1 },
    { name: "helper", kind: "function", cell: 2, js: "function helper(x) { return { y: { z: scale(x) } }; }" },
    { name: "scale", kind: "const", cell: 3 },
    { name: "createHash", kind: "import", cell: 4, importSpec: { url: "node:crypto", imported: "createHash" } },
    { name: "Q", kind: "class", cell: 5, js: "class Q { m() { return createHash; } }" },
    { name: "P", kind: "class", cell: 6, js: "class P extends Q {\n}" },
    { name: "Color", kind: "enum", cell: 7, js: "(() => { var Color; (function (Color) { Color[Color[\"Red\"] = 0] = \"Red\"; })(Color || (Color = {})); return Color; })()" },
    { name: "Shape", kind: "interface", cell: 8 },
    { name: "sock", kind: "let", cell: 9 },
    { name: "pending", kind: "const", cell: 10 },
  ], "./__cell_1");
  return r;
}

describe("capture", () => {
  // `scale` is a const holding an arrow function defined in a cell: it travels as its source.
  const scope: Record<string, unknown> = { k: 3, factor: 2, scale: new Function("return (x) => x * factor")(), _: [1, 2] };
  it("builds deps from every kind of binding, dependencies first, in a stable order", () => {
    const ctx = { bindings: registry(), scope };
    const src = "(x) => x * k + helper(x).y.z + Math.max(1) + new P() + _.length + Color.Red + console.log(Shape)";
    const deps = captureDependencies(src, ctx);
    expect(deps).toEqual([
      { name: "k", value: 3 },
      { name: "factor", value: 2 },
      { name: "scale", js: "(x) => x * factor" },
      { name: "helper", js: "function helper(x) { return { y: { z: scale(x) } }; }" },
      { name: "createHash", import: "node:crypto", imported: "createHash" },
      { name: "Q", js: "class Q { m() { return createHash; } }" },
      { name: "P", js: "class P extends Q {\n}" },
      { name: "_", value: [1, 2] },
      { name: "Color", js: expect.stringContaining("var Color;") },
    ]);
    expect(captureDependencies(src, ctx)).toEqual(deps);
  });
  it("ships an instance of a notebook class as its fields, its class, and a prototype fix-up", () => {
    const r = registry();
    r.define([{ name: "Pt", kind: "class", cell: 11, js: "class Pt {\n    constructor(x) { this.x = x; }\n    norm() { return Math.abs(this.x); }\n}" }, { name: "origin", kind: "const", cell: 12 }], "./__cell_11");
    const Pt = new Function("return class Pt { constructor(x) { this.x = x; } norm() { return Math.abs(this.x); } }")();
    const deps = captureDependencies("(k) => origin.norm() * k", { bindings: r, scope: { Pt, origin: new Pt(-4) } });
    expect(deps.slice(0, 2)).toEqual([
      { name: "Pt", js: expect.stringContaining("class Pt") },
      { name: "origin", value: { x: -4 } },
    ]);
    // On a worker: the class's code, then the plain copy of the data, then the fix-up script.
    const worker = vm.createContext({});
    vm.runInContext((deps[0] as { js: string }).js, worker);
    worker.origin = structuredClone((deps[1] as { value: unknown }).value);
    vm.runInContext((deps[2] as { script: string }).script, worker);
    expect(vm.runInContext("[origin instanceof Pt, origin.norm()]", worker)).toEqual([true, 4]);
    const again = captureDependencies("(k) => origin.norm() * k", { bindings: r, scope: { Pt, origin: new Pt(-5) } });
    expect(again[2]).not.toEqual(deps[2]); // a changed value re-runs the fix-up
  });

  it("names what cannot travel and why", () => {
    const s = new net.Socket();
    const ctx = { bindings: registry(), scope: { ...scope, sock: { conn: s }, pending: Promise.resolve(1), bound: Math.max.bind(null) } };
    const err = (src: string) => {
      try {
        captureDependencies(src, ctx);
      } catch (e) {
        expect(e).toBeInstanceOf(CaptureError);
        return (e as Error).message;
      }
      throw new Error("expected a CaptureError");
    };
    expect(err("(x) => sock.conn.write(x)")).toBe("`sock` cannot travel to the workers: its value.conn is a live handle (Socket) tied to this process; open it inside the mapped function instead");
    expect(err("(x) => pending")).toMatch(/^`pending` cannot travel to the workers: its value is a Promise; `await` it/);
    expect(err("(x) => bound(x)")).toMatch(/^`bound` cannot travel to the workers: it is a native or bound function/);
    expect(err("(x) => display(x)")).toMatch(/^`display` cannot travel to the workers: `display` shows output under the cell from the kernel only/);
    expect(err("(x) => pool.map(f, [x])")).toMatch(/^`pool` cannot travel to the workers: the notebook's `pool` lives in the kernel/);
  });

  it("refuses a function value that uses variables of the function or block that made it, naming them, also when a global has the same name", () => {
    const makeCounter = new Function("let n = 100; return () => ++n");
    const makeAdder = new Function("k", "return (x) => x + k");
    const loopFns = new Function("const fs = []; for (const v of [1, 2]) fs.push((y) => y + v); return fs")();
    const r = registry();
    r.define([
      { name: "counter", kind: "const", cell: 20 },
      { name: "add5", kind: "const", cell: 21 },
      { name: "tick", kind: "function", cell: 22, js: "function tick() { return counter(); }" },
      { name: "perItem", kind: "const", cell: 23 },
    ], "./__cell_20");
    const ctx = { bindings: r, scope: { ...scope, counter: makeCounter(), add5: makeAdder(5), perItem: loopFns[0] } };
    const err = (src: string, fn?: { name: string; value: Function }) => {
      try {
        captureDependencies(src, ctx, fn);
      } catch (e) {
        expect(e).toBeInstanceOf(CaptureError);
        return (e as Error).message;
      }
      throw new Error("expected a CaptureError");
    };
    expect(err("(x) => counter() + x")).toMatch(/^`counter` cannot travel to the workers: it is a function made inside another function \(a closure\), and its code uses `n`, a variable of that function, so its source alone cannot run on a worker/);
    expect(err("(x) => counter() + x")).toContain("Define the function at top level in a cell");
    expect(err("(x) => tick() + x")).toMatch(/^`counter` cannot travel to the workers: .*\(a closure\) \(used by `tick`\), and its code uses `n`/);
    // `k` is also a global of the notebook (3): the source alone would silently use that one
    expect(err("(x) => add5(x)")).toMatch(/^`add5` cannot travel .* its code uses `k`, a variable of that function \(the notebook's global `k` of the same name is another variable, which the source would silently use instead\)/);
    expect(err("(x) => perItem(x)")).toMatch(/^`perItem` cannot travel to the workers: it is a function made inside a block or loop, and its code uses `v`, a variable of that block/);
    // the task function itself (pool.map((x) => x * kk) inside a function)
    const inner = new Function("kk", "return (x) => x * kk + k")(2);
    expect(err("(x) => x * kk + k", { name: "the function", value: inner })).toMatch(/^`the function` cannot travel to the workers: .* uses `kk`, a variable of that function/);
    // the same source made at top level travels
    expect(captureDependencies("(x) => x * k", ctx, { name: "top", value: new Function("return (x) => x * k")() })).toEqual([{ name: "k", value: 3 }]);
  });

  it("ships a module or a module's export held in a variable as that module", () => {
    const r = registry();
    r.define([{ name: "join", kind: "const", cell: 40 }, { name: "pathMod", kind: "const", cell: 41 }], "./__cell_40");
    const deps = captureDependencies("(s) => join(pathMod.sep, s)", { bindings: r, scope: { ...scope, join: path.join, pathMod: path } });
    expect(deps).toEqual([{ name: "join", require: "node:path", member: "join" }, { name: "pathMod", require: "node:path" }]);
  });

  it("lets functions use their own parameters, locals, name, this, arguments, globals and what the workers have", () => {
    const r = registry();
    r.define([
      { name: "rec", kind: "const", cell: 30 }, { name: "meth", kind: "const", cell: 31 }, { name: "Made", kind: "const", cell: 32 },
      { name: "probe", kind: "const", cell: 33 }, { name: "usesRun", kind: "const", cell: 34 },
    ], "./__cell_30");
    const Q = class Q {};
    const fns = new Function("Q", `return {
      rec: (n) => n < 1 ? k : rec(n - 1),
      meth: ({ m(x) { const y = x + this.z + arguments.length; return Math.max(y, factor) + process.pid } }).m,
      Made: class Made extends Q { static make() { return new Made() } },
      probe: (x) => typeof window === "undefined" ? x : window.devicePixelRatio,
      usesRun: (x) => fromRun + x,
    }`)(Q);
    // (Made extends the variable Q of the function that made it, which is the notebook's global Q too)
    const deps = captureDependencies("(x) => [rec(x), meth(x), Made.make(), probe(x), usesRun(x)]", { bindings: r, scope: { ...scope, ...fns, Q }, exclude: ["fromRun"] });
    expect(deps.map((d) => ("name" in d ? d.name : "script"))).toEqual(["k", "rec", "factor", "meth", "createHash", "Q", "Made", "probe", "usesRun"]);
  });
});
