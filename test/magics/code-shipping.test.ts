/**
 * How the %pool magics ship code, through the real kernel over zeromq: a closure is refused
 * before anything runs, naming what it cannot take along; the notebook's own .ts modules are
 * imported on the workers (processes and threads); `%pool pull` keeps notebook classes; and data
 * a worker already holds is not sent again by a new cell.
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useKernel } from "../helpers/kernel-session.js";
import type { ExecuteResult } from "../helpers/kernel-client.js";

let dir: string;
const s = useKernel(() => {
  dir = mkdtempSync(join(tmpdir(), "tspool-shipping-"));
  writeFileSync(join(dir, "shapes.ts"), "export interface Shape { kind: string }\nexport function area(r: number): number { return 3 * r * r }\n");
  writeFileSync(join(dir, "rings.ts"), "import { area } from './shapes.ts'\nexport const ring = (r: number): number => area(r) - area(r - 1)\n");
  return { cwd: dir };
}, async ({ ok }) => {
  await ok("%pool start 2");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { ok, fails } = s;
const plain = (r: ExecuteResult) => r.result?.data["text/plain"] as string;

describe("functions that close over what cannot travel", () => {
  it("are refused before anything runs, naming the binding, the names it cannot take along and what to do", async () => {
    await ok("function makeCounter() { let n = 100; return () => ++n }\nconst counter = makeCounter()");
    const e = await fails("%%pool map [1, 2]\n(x: number) => counter() + x");
    expect(e.ename).toBe("CaptureError");
    expect(e.evalue).toMatch(/^`counter` cannot travel to the workers: it is a function made inside another function or a module \(a closure\), and its code uses `n`, which exists only there/);
    expect(e.evalue).toContain("Define the function at top level in a cell");
    // through another function: the chain is named
    await ok("function next(x: number) { return counter() + x }");
    expect((await fails("%%pool map [1]\n(x: number) => next(x)")).evalue).toMatch(/^`counter` cannot travel .*\(used by `next`\)/);
    // push does not claim success
    const p = await fails("%pool push counter");
    expect(p.ename).toBe("CaptureError");
    expect(p.evalue).toContain("`counter` cannot travel");
    // a module's function taken out of its module
    await ok("import path from 'node:path'\nconst join = path.join");
    expect((await fails("%%pool map ['a']\n(s: string) => join('x', s)")).evalue).toMatch(/^`join` cannot travel .* its code uses `validateString`/);
    // a closure over a socket
    await ok("import net from 'node:net'\nfunction makeSender(s: net.Socket) { return (x: number) => { s.write('x'); return x } }\nconst sender = makeSender(new net.Socket())");
    expect((await fails("%%pool map [1]\n(x: number) => sender(x)")).evalue).toMatch(/^`sender` cannot travel .* its code uses `s`, which exists only there/);
    // a task function made inside a function, given to the pool global
    const g = await fails("function scaleAll(f: number) { return pool.map((x: number) => x * f, [1, 2]) }\nawait scaleAll(3)");
    expect(g.ename).toBe("CaptureError");
    expect(g.evalue).toMatch(/^`the function` cannot travel .* uses `f`, which exists only there/);
    // the kernel and the pool carry on
    expect(plain(await ok("counter()"))).toBe("101");
  });

  it("still ship functions defined at top level, whatever they use", async () => {
    await ok("const rate = 2\nconst scaleBy = (x: number) => x * rate\nconst probe = (x: number) =>\n  // @ts-ignore: a global some runtimes have\n  typeof Bun === 'undefined' ? x : Bun.version\nclass Tally { static of(n: number) { return new Tally(n) } constructor(public n: number) {} twice() { return Tally.of(this.n * 2) } }\nconst makeTally = (n: number) => Tally.of(n)");
    expect(plain(await ok("%%pool map [1, 2]\n(x: number) => [scaleBy(x), probe(x), makeTally(x).twice().n]"))).toBe("[ [ 2, 1, 2 ], [ 4, 2, 4 ] ]");
    expect(plain(await ok("await pool.map((x: number) => scaleBy(x) + Math.max(x, 0), [5])"))).toBe("[ 15 ]");
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
});
