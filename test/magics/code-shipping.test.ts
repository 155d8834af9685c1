/**
 * How the %pool magics ship code, through the real kernel over zeromq: a closure is refused
 * before anything runs, naming what it cannot take along (also when a global of the notebook has
 * the name of its variable); what is declared at top level travels; ambient (`declare`) names are
 * left to the workers; decorated classes and `using` travel with TypeScript's helpers; modules
 * loaded with require() travel as modules; the notebook's own .ts modules are imported on the
 * workers (processes and threads); `%pool pull` keeps notebook classes; and data a worker already
 * holds is not sent again by a new cell.
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useKernel } from "../helpers/kernel-session.js";
import { plain } from "../helpers/kernel-client.js";

let dir: string;
const s = useKernel(() => {
  dir = mkdtempSync(join(tmpdir(), "tspool-shipping-"));
  writeFileSync(join(dir, "shapes.ts"), "export interface Shape { kind: string }\nexport function area(r: number): number { return 3 * r * r }\n");
  writeFileSync(join(dir, "rings.ts"), "import { area } from './shapes.ts'\nexport const ring = (r: number): number => area(r) - area(r - 1)\n");
  writeFileSync(join(dir, "box.ts"), "export class Box { constructor(public v: number) {} }\n");
  // CommonJS modules whose functions use the module's own variables
  mkdirSync(join(dir, "node_modules", "tiny-cjs"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "tiny-cjs", "index.js"), "function double(x) { return x * 2 }\nmodule.exports = function twice(x) { return double(x) }\nmodule.exports.triple = (x) => double(x) + x\n");
  writeFileSync(join(dir, "local.cjs"), "const prefix = 'L:'\nexports.label = (s) => prefix + s\n");
  return { cwd: dir };
}, async ({ ok }) => {
  await ok("%pool start 2");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { ok, fails } = s;

describe("functions that close over what cannot travel", () => {
  it("are refused before anything runs, naming the binding, the names it cannot take along and what to do", async () => {
    await ok("function makeCounter() { let n = 100; return () => ++n }\nconst counter = makeCounter()");
    const e = await fails("%%pool map [1, 2]\n(x: number) => counter() + x");
    expect(e.ename).toBe("CaptureError");
    expect(e.evalue).toMatch(/^`counter` cannot travel to the workers: it is a function made inside another function \(`makeCounter`\) \(a closure\), and its code uses `n`, a variable of that function, so its source alone cannot run on a worker/);
    expect(e.evalue).toContain("Define the function at top level in a cell");
    // through another function: the chain is named
    await ok("function next(x: number) { return counter() + x }");
    expect((await fails("%%pool map [1]\n(x: number) => next(x)")).evalue).toMatch(/^`counter` cannot travel .*\(used by `next`\)/);
    // push does not claim success
    const p = await fails("%pool push counter");
    expect(p.ename).toBe("CaptureError");
    expect(p.evalue).toContain("`counter` cannot travel");
    // a function a module's function made
    await ok("import { debuglog } from 'node:util'\nconst dbg = debuglog('tspool-test')");
    expect((await fails("%%pool map ['a']\n(s: string) => dbg(s)")).evalue).toMatch(/^`dbg` cannot travel .* made inside another function \(`debuglog`\) \(a closure\), and its code uses `\w+`/);
    // a closure over a socket
    await ok("import net from 'node:net'\nfunction makeSender(s: net.Socket) { return (x: number) => { s.write('x'); return x } }\nconst sender = makeSender(new net.Socket())");
    expect((await fails("%%pool map [1]\n(x: number) => sender(x)")).evalue).toMatch(/^`sender` cannot travel .* its code uses `s`, a variable of that function/);
    // a task function made inside a function, given to the pool global
    const g = await fails("function scaleAll(f: number) { return pool.map((x: number) => x * f, [1, 2]) }\nawait scaleAll(3)");
    expect(g.ename).toBe("CaptureError");
    expect(g.evalue).toMatch(/^`the function` cannot travel .* \(`scaleAll`\) \(a closure\), and its code uses `f`, a variable of that function/);
    // the kernel and the pool carry on
    expect(plain(await ok("counter()"))).toBe("101");
  });

  it("still ship functions defined at top level, whatever they use", async () => {
    await ok("const rate = 2\nconst scaleBy = (x: number) => x * rate\nconst probe = (x: number) =>\n  // @ts-ignore: a global some runtimes have\n  typeof Bun === 'undefined' ? x : Bun.version\nclass Tally { static of(n: number) { return new Tally(n) } constructor(public n: number) {} twice() { return Tally.of(this.n * 2) } }\nconst makeTally = (n: number) => Tally.of(n)");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => [scaleBy(x), probe(x), makeTally(x).twice().n]"))).toBe("[ [ 2, 1, 2 ], [ 4, 2, 4 ] ]");
    expect(plain(await ok("await pool.map((x: number) => scaleBy(x) + Math.max(x, 0), [5])"))).toBe("[ 15 ]");
  });
});

describe("closures whose variables have the names of notebook globals", () => {
  it("are refused instead of silently using the globals", async () => {
    await ok("const n = 1\nfunction makeAdder(n: number) { return (x: number) => x + n }\nconst add5 = makeAdder(5)");
    expect(plain(await ok("add5(10)"))).toBe("15");
    const e = await fails("%%pool map [10]\nadd5");
    expect(e.ename).toBe("CaptureError");
    expect(e.evalue).toMatch(/^`add5` cannot travel to the workers: it is a function made inside another function \(`makeAdder`\) \(a closure\), and its code uses `n`, a variable of that function \(the notebook's global `n` of the same name is another variable, which the source would silently use instead\)/);
    expect((await fails("await pool.map(add5, [10])")).evalue).toMatch(/^`add5` cannot travel .* uses `n`/);
    expect((await fails("%%pool map [10]\n(x: number) => add5(x)")).evalue).toMatch(/^`add5` cannot travel .* uses `n`/);
    // a factory's parameter named like a notebook function
    await ok("function score(x: number) { return x }\nconst wrap = ((score: (x: number) => number) => (x: number) => score(x) * 3)((x) => x + 1000)");
    expect(plain(await ok("wrap(1)"))).toBe("3003");
    expect((await fails("%%pool map [1]\nwrap")).evalue).toMatch(/^`wrap` cannot travel .*\(a closure\), and its code uses `score`, a variable of that function \(the notebook's global `score`/);
    // a loop variable of a cell's top level
    const loop = await fails("const sums: number[] = []\nfor (const v of [10, 20]) sums.push(...await pool.map((y: number) => y + v, [1]))");
    expect(loop.evalue).toMatch(/^`the function` cannot travel to the workers: it is a function made inside a block or loop, and its code uses `v`, a variable of that block/);
    expect(plain(await ok("add5(1)"))).toBe("6");
  });

  it("let everything declared at top level travel: functions and classes using each other in one cell, arrows, methods, %%pool run functions, imports", async () => {
    await ok("function inc(x: number) { return x + 1 }\nfunction twiceInc(x: number) { return inc(inc(x)) }\nconst viaArrow = (x: number) => twiceInc(x) * 10\nclass Calc { constructor(public k: number) {} run(x: number) { return viaArrow(x) + this.k + inc(0) } }\nconst runIt = new Calc(0).run");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => [new Calc(100).run(x), runIt.call(new Calc(5), x)]"))).toBe("[ [ 131, 36 ], [ 141, 46 ] ]");
    await ok("%%pool run\nfunction onWorker(x: number) { return x * 7 }\n0");
    await ok("import { area } from './shapes.ts'\nconst areaToo = area");
    expect(plain(await ok("%%pool map [1]\n(x: number) => onWorker(x) + inc(x) + area(x) + areaToo(x)"))).toBe("[ 15 ]");
  });

  it("say so when a function of a cell uses another function of its cell that a later cell redefined", async () => {
    await ok("function base(x: number) { return x + 1 }\nfunction onBase(x: number) { return base(x) * 2 }");
    expect(plain(await ok("%%pool map [1]\nonBase"))).toBe("[ 4 ]");
    await ok("function base(x: number) { return x + 1000 }");
    expect(plain(await ok("onBase(1)"))).toBe("4"); // the kernel's onBase still calls the first base
    const e = await fails("%%pool map [1]\nonBase");
    expect(e.evalue).toMatch(/^`onBase` cannot travel to the workers: its code uses `base` of its own cell, which cell \d+ has redefined since: in the kernel `onBase` still calls the old `base`.* Run the cell that defines `onBase` again/);
    await ok("function onBase(x: number) { return base(x) * 2 }");
    expect(plain(await ok("%%pool map [1]\nonBase"))).toBe("[ 2002 ]");
  });
});

describe("names declared with `declare` (ambient)", () => {
  it("are left to the workers: what a %%pool run cell put there is used, not overwritten with the kernel's nothing", async () => {
    await ok("%%pool run\nObject.assign(globalThis, { wonly: 41, wlet: 1, wconst: 2 })\n0");
    await ok("declare var wonly: number\ndeclare let wlet: number\ndeclare const wconst: number");
    expect(plain(await ok("%%pool map [1]\n(x: number) => wonly + wlet + wconst + x"))).toBe("[ 45 ]");
    expect(plain(await ok("%%pool map [1]\n(x: number) => typeof wonly === 'number' ? wonly + x : -1"))).toBe("[ 42 ]");
    await ok("declare global { var gfoo: number }");
    await ok("%%pool run\nglobalThis.gfoo = 10\n0");
    expect(plain(await ok("%%pool map [1]\n(x: number) => gfoo + x"))).toBe("[ 11 ]");
    // there is nothing to push
    const p = await fails("%pool push wonly");
    expect(p.evalue).toMatch(/`wonly` is declared with `declare`, so the kernel has no value of it to push/);
    expect(plain(await ok("%%pool map [1]\n(x: number) => wonly + x"))).toBe("[ 42 ]");
  });

  it("missing on a worker give a ReferenceError that says they are expected there", async () => {
    await ok("declare var nowhere: number");
    const e = await fails("%%pool map [1]\n(x: number) => nowhere + x");
    expect(e.ename).toBe("ReferenceError");
    expect(e.evalue).toMatch(/^nowhere is not defined: `nowhere` is declared with `declare` in the notebook, so it has no value in the kernel and is expected to be defined on the workers \(e\.g\. by a `%%pool run` cell\), but worker \d does not have it \(worker \d, item 0\)$/);
  });
});

describe("code TypeScript compiles with helpers", () => {
  it("travels: classes with decorators, functions with `using` and `await using`", async () => {
    await ok("function logged(value: any, ctx: ClassMethodDecoratorContext) { return function (this: any, ...a: any[]) { return value.call(this, ...a) * 10 } }\nclass Dec { @logged m(x: number) { return x + 1 } }");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => new Dec().m(x)"))).toBe("[ 20, 30 ]");
    await ok("function tagged<T extends new (...a: any[]) => object>(c: T, ctx: ClassDecoratorContext) { return class extends c { tag = 'T' } }\n@tagged class Tagged { v = 1 }");
    expect(plain(await ok("%%pool map [1]\n(x: number) => { const t = new Tagged() as any; return t.v + x + t.tag }"))).toBe("[ '2T' ]");
    await ok("function useRes(x: number) { using r = { [Symbol.dispose]() {} }; return x * 2 }\nasync function useAsyncRes(x: number) { await using r = { async [Symbol.asyncDispose]() {} }; return x * 3 }");
    expect(plain(await ok("%%pool map [1]\nasync (x: number) => [useRes(x), await useAsyncRes(x)]"))).toBe("[ [ 2, 3 ] ]");
  });
});

describe("modules loaded with require()", () => {
  it("travel as modules, required again on the workers, also as destructured exports", async () => {
    await ok("const pathMod = require('node:path')\nconst { join: pj } = require('node:path')\nconst tiny = require('tiny-cjs')\nconst { triple } = require('tiny-cjs')\nconst local = require('./local.cjs')");
    expect(plain(await ok("%%pool map ['a']\n(s: string) => [pathMod.join('x', s), pj('y', s), tiny(2), triple(2), local.label(s)]"))).toBe("[ [ 'x/a', 'y/a', 4, 6, 'L:a' ] ]");
    // an export of an imported module, kept in a variable
    await ok("import path from 'node:path'\nconst baseOf = path.basename");
    expect(plain(await ok("%%pool map ['/a/b']\n(s: string) => baseOf(s)"))).toBe("[ 'b' ]");
  });
});

describe("values the workers could not use as the kernel does", () => {
  it("are refused with what to do: a Blob, and shared memory for process workers", async () => {
    await ok("const blob = new Blob(['abc'])");
    const b = await fails("%%pool map [1]\nasync (x: number) => await blob.text()");
    expect(b.ename).toBe("CaptureError");
    expect(b.evalue).toMatch(/^`blob` cannot travel to the workers: its value is a Blob, whose contents can only be read asynchronously.*`const bytes = new Uint8Array\(await blob.arrayBuffer\(\)\)`/);
    await ok("const ia = new Int32Array(new SharedArrayBuffer(8))");
    const s = await fails("%%pool map [1, 2]\n(x: number) => Atomics.add(ia, 0, x)");
    expect(s.evalue).toMatch(/^`ia` cannot travel to the workers: its value is shared memory \(an Int32Array on a SharedArrayBuffer\), which process workers cannot share: each would get its own copy.* SharedArray or a Value from "tspool".*`%pool start --threads`/);
    expect((await fails("%pool push ia")).evalue).toMatch(/^`ia` cannot travel .* shared memory/);
  });
});

describe("%pool push", () => {
  it("names what it pushed along, not tspool's own helpers", async () => {
    await ok("import { Box } from './box.ts'");
    const r = await ok("%pool push Box");
    expect(r.stdout).toBe("Pushed Box to 2 workers.\n");
    expect(plain(await ok("%%pool run\nnew Box(3).v"))).toBe("[ 3, 3 ]");
  });
});

describe("the notebook's own TypeScript modules", () => {
  it("are imported on process workers, with the modules they import", async () => {
    await ok("import { area } from './shapes.ts'\nimport type { Shape } from './shapes.ts'\nimport { ring } from './rings.ts'");
    expect(plain(await ok("area(2)"))).toBe("12");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => [area(x), ring(x), ({ kind: 'c' } as Shape).kind]"))).toBe("[ [ 3, 3, 'c' ], [ 12, 9, 'c' ] ]");
  }, 120_000);

  it("are imported by %%pool run cells and by import() in shipped functions", async () => {
    // fresh workers each time, so that each case has to bring the TypeScript loader itself
    await ok("%pool restart");
    expect(plain(await ok("%%pool run\nimport { ring as r2 } from './rings.ts'\nr2(3)"))).toBe("[ 15, 15 ]");
    await ok("%pool restart");
    expect(plain(await ok("await pool.run(async () => [(await import('./shapes.ts')).area(2), (await import('node:path')).basename('/a/b')])"))).toBe("[ [ 12, 'b' ], [ 12, 'b' ] ]");
    await ok("%pool restart");
    await ok("async function viaImport(x: number) { const m = await import('./rings.ts'); return m.ring(x) }");
    expect(plain(await ok("%%pool map [2]\nviaImport"))).toBe("[ 9 ]");
  }, 120_000);
});

describe("%pool pull", () => {
  it("keeps the class of notebook-class instances, pushed or made on the workers", async () => {
    await ok("class Pt { constructor(public x: number) {} norm() { return Math.abs(this.x) } }\nconst pt = new Pt(-7)");
    await ok("%pool push pt");
    const r = await ok("%pool pull pt");
    expect(plain(r)).toBe("[ Pt { x: -7 }, Pt { x: -7 } ]");
    expect(plain(await ok("(_ as Pt[]).map((p) => p instanceof Pt && p.norm())"))).toBe("[ 7, 7 ]");
    await ok("%%pool run\n(globalThis as any).made = new Pt(9); 1");
    expect(plain(await ok("%pool pull made"))).toBe("[ Pt { x: 9 }, Pt { x: 9 } ]");
    expect(plain(await ok("%pool pull small_missing_name"))).toBe("[ undefined, undefined ]");
  });
});

describe("data a worker already holds", () => {
  const received = async () => {
    const r = await ok("%%pool run\n(globalThis as any)[Symbol.for('tspool.workerCode')]().received");
    return JSON.parse(plain(r).replace(/ /g, "")) as number[];
  };

  it("is not sent again by the same cell run again, a changed function, or a cell where only other data changed", async () => {
    await ok("const big = Array.from({ length: 300_000 }, (_, i) => i * 1.5)\nlet small = 3");
    expect(plain(await ok("%%pool map [0, 1]\n(i: number) => big[i] + small"))).toBe("[ 3, 4.5 ]");
    const first = await received();
    expect(plain(await ok("%%pool map [0, 1]\n(i: number) => big[i] + small"))).toBe("[ 3, 4.5 ]");
    expect(await received()).toEqual(first);
    expect(plain(await ok("%%pool map [0, 1]\n(i: number) => big[i] + small + 1"))).toBe("[ 4, 5.5 ]");
    expect(await ok("await pool.map((i: number) => big[i] * small, [2])").then(plain)).toBe("[ 9 ]");
    expect(await received()).toEqual(first);
    // only `small` changed: only it travels, and the snapshot is the new value
    await ok("small = 10");
    expect(plain(await ok("%%pool map [0, 1]\n(i: number) => big[i] + small"))).toBe("[ 10, 11.5 ]");
    expect(await received()).toEqual(first.map((n) => n + 1));
    // a change inside the data is seen too
    await ok("big[0] = 1000");
    expect(plain(await ok("%%pool map [0, 1]\n(i: number) => big[i] + small"))).toBe("[ 1010, 11.5 ]");
    expect(await received()).toEqual(first.map((n) => n + 2));
  }, 120_000);
});

describe("thread workers", () => {
  it("import the notebook's TypeScript modules too", async () => {
    await ok("%pool start 2 --threads");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => ring(x) + area(x)"))).toBe("[ 6, 21 ]");
  }, 120_000);

  it("share memory with the kernel", async () => {
    await ok("const shared = new Int32Array(new SharedArrayBuffer(8))");
    expect(plain(await ok("%%pool map [1, 2] --chunksize 1\n(x: number) => { Atomics.add(shared, 0, x); return x }"))).toBe("[ 1, 2 ]");
    expect(plain(await ok("shared[0]"))).toBe("3");
  }, 120_000);
});
